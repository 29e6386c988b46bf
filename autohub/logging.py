"""Structured logging with PII masked before anything is written (PIPL Art. 51)."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from canonical_model.identifiers.masking import mask_middle

# Resident IDs (18 chars) and mainland mobiles (with or without +86) wherever they appear in a log value.
_RESIDENT_ID = re.compile(r"(?<![0-9A-Z])\d{17}[\dXx](?![0-9A-Z])")
_MOBILE = re.compile(r"(?<!\d)(\+?86)?1[3-9]\d{9}(?!\d)")


def mask_text(text: str) -> str:
    text = _RESIDENT_ID.sub(lambda m: mask_middle(m.group(0), 6, 4), text)
    return _MOBILE.sub(lambda m: mask_middle(m.group(0), len(m.group(0)) - 8, 4), text)


def _mask_pii(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = mask_text(value)
    return event_dict


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written (test runners and daemons swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(level: str = "INFO", fmt: str = "console") -> None:
    renderer: Any = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _mask_pii,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        # stderr, so stdout stays for results (`autohub schema > file`)
        logger_factory=structlog.PrintLoggerFactory(_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
