"""Structured logging with PII masked before anything is written (PIPL Art. 51), whoever writes the line.

Three writers reach the log: our structlog calls, the standard-library loggers of the libraries (SQLAlchemy,
uvicorn, pika, httpx…) and tracebacks of errors nobody caught (a thread or the process dying). An outside probe
found a customer's name and full mobile in the consumer's log and searched values in the API's — all through
the second and third. So every one of them is masked here: structlog's events (tracebacks rendered to text
first, then masked), a masking formatter on the root logger that the libraries' records propagate to, and
masking ``sys.excepthook``/``threading.excepthook``. The store's engines also hide statement parameters in
their errors (store/engine.py), so the values are not in the text to begin with.

What is masked in free text: resident ID numbers, mainland mobiles (any usual spacing), e-mail addresses, runs
of Chinese characters (a name, an address — the first character stays, ``王*``), and the values of a URL's
query string (``?mobile=…``), which is where a search puts what it looks for.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from collections.abc import MutableMapping
from types import TracebackType
from typing import Any

import structlog

from core.masking import mask_middle

# Resident IDs (18 chars) and mainland mobiles (with or without +86, spaced or not) wherever they appear.
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")
_HAN_RUN = re.compile(
    r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff·]+)"
)
_QUERY_VALUE = re.compile(r"([?&][A-Za-z_][A-Za-z0-9_.-]*=)[^&#\s\"'<>]+")
_PLAIN = (int, float, bool, type(None))
_HANDLER_MARK = "_autohub_masking"


def _mask_mobile(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    return mask_middle(digits, len(digits) - 8, 4)


def mask_text(text: str) -> str:
    """``text`` with every kind of PII the module docstring lists masked; other text left as it was."""
    text = _QUERY_VALUE.sub(r"\1…", text)
    text = _RESIDENT_ID.sub(lambda m: mask_middle(m.group(0), 6, 4), text)
    text = _MOBILE.sub(_mask_mobile, text)
    text = _EMAIL.sub(r"\1***@\2", text)
    return _HAN_RUN.sub(lambda m: m.group(1) + "*" * len(m.group(2)), text)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_masked(v) for v in value]
    return mask_text(str(value))  # an exception, a path, a model: rendered later by repr, so masked now


def _mask_pii(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in event_dict.items():
        event_dict[key] = _masked(value)
    return event_dict


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written (test runners and daemons swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class MaskingFormatter(logging.Formatter):
    """The standard library's record — message, arguments and traceback alike — masked as one text."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


def _print_masked(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    sys.stderr.write(mask_text("".join(traceback.format_exception(kind, value, tb))))


def _thread_died(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread else "?"
    sys.stderr.write(f"Exception in thread {name}:\n")
    if args.exc_value is not None:
        _print_masked(args.exc_type, args.exc_value, args.exc_traceback)


def _route_standard_logging(level: str) -> None:
    """One masking handler on the root logger (replacing ours from an earlier call); libraries' records at
    WARNING and above reach it, uvicorn's at the hub's own level (its "running on" lines are wanted)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(_CurrentStderr())
    handler.setFormatter(MaskingFormatter("%(asctime)s [%(levelname)-7s] %(name)s: %(message)s"))
    # Libraries that set their own loggers to INFO (Splink does) stay at WARNING here, as without a handler.
    handler.addFilter(lambda record: record.levelno >= logging.WARNING or record.name.startswith("uvicorn"))
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.getLevelNamesMapping()[level])
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # request lines carry searched values


def configure(level: str = "INFO", fmt: str = "console") -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,  # a traceback becomes text here, so that it is masked next
            _mask_pii,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        # stderr, so stdout stays for results (`autohub schema > file`)
        logger_factory=structlog.PrintLoggerFactory(_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    _route_standard_logging(level)
    sys.excepthook = _print_masked
    threading.excepthook = _thread_died


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
