"""What one ERP call asks and where the next one goes on: the request parameters a stream's settings give,
their check against the operation the WSDL describes, and the continuation read from an answer.

A parameter the operation does not have is a setting to fix, not a traceback: zeep answers it with a bare
``TypeError`` on the first call, so the names are checked when the WSDL is loaded, and a ``TypeError`` that
still comes is turned into the same ``ConfigError``, naming the stream, the operation, the parameter and the
setting that put it there.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from connectors.erp_config import ErpOperation, ErpRejected
from connectors.erp_values import id_text, is_true, nested, paths, put
from connectors.origin import SourceOrigin
from connectors.values import dig
from core.errors import ConfigError

_UNEXPECTED = re.compile(r"unexpected keyword argument '([^']+)'")


def setting(origin: SourceOrigin, stream: str, name: str) -> str:
    """A stream's setting as the user writes it: ``AUTOHUB_ERP__STREAMS.customers.page_size_param`` for the
    shipped ERP, ``sources.yaml: sap_ecc.settings.streams.customers.page_size_param`` for a declared one."""
    return origin.setting(f"streams.{stream}.{name}")


def params_sent(op: ErpOperation) -> dict[str, str]:
    """Every dotted parameter a stream may send → the setting that names it (fixed ones under extra_params)."""
    named = {
        "page_size_param": op.page_size_param,
        "changed_since_param": op.changed_since_param,
        "page_token_param": op.page_token_param,
        "last_id_param": op.last_id_param,
    }
    sent = {path: "extra_params" for path in paths(nested(op.extra_params))}
    sent.update({path: name for name, path in named.items() if path})
    return sent


def request(op: ErpOperation, *, since: datetime | None, position: str | None) -> dict[str, Any]:
    """The arguments of one call: fixed ones, the page size, the change-time filter and where to go on."""
    params = nested(op.extra_params)
    if op.page_size_param:
        put(params, op.page_size_param, op.page_size)
    if since is not None and op.changed_since_param:
        put(params, op.changed_since_param, since)
    if position is not None:
        put(params, op.page_token_param or op.last_id_param or "", position)
    return params


# --- the check against the WSDL ---------------------------------------------------------------------------


def check_against(stream: str, op: ErpOperation, operation: Any, origin: SourceOrigin) -> None:
    """Refuse at start a parameter the operation's input has no element for (``operation``: zeep's)."""
    top = _input_type(operation)
    if top is None:  # a message shape we cannot walk (RPC style, a header part): left to the call
        return
    for path, name in params_sent(op).items():
        xsd_type = top
        for depth, part in enumerate(path.split(".")):
            children = _children(xsd_type)
            if children is None:
                break  # xs:any or a simple type we cannot see into: zeep decides at the call
            if part not in children:
                inside = ".".join(path.split(".")[:depth])
                raise _wrong(stream, op, path, name, sorted(children), inside, origin)
            xsd_type = getattr(children[part], "type", None)


def _input_type(operation: Any) -> Any:
    body = getattr(getattr(operation, "input", None), "body", None)
    return getattr(body, "type", None)


def _children(xsd_type: Any) -> dict[str, Any] | None:
    try:
        elements = xsd_type.elements
    except AttributeError:
        return None
    return {name: element for name, element in elements} or None


def _wrong(stream: str, op: ErpOperation, path: str, name: str, offered: list[str], inside: str,
           origin: SourceOrigin) -> ConfigError:  # fmt: skip
    where = f"in {inside!r} " if inside else ""
    return ConfigError(
        f"stream {stream}: operation {op.operation} has no parameter {path!r} (set by {name}); "
        f"{where}it takes {', '.join(offered) or 'nothing'}",
        field=setting(origin, stream, name),
        fix=f"correct {name} to a parameter the WSDL names, dotted for nesting, "
        "or set it to null if the operation has no such parameter",
    )


def wrong_argument(stream: str, op: ErpOperation, exc: TypeError, origin: SourceOrigin) -> ConfigError:
    """zeep's ``TypeError`` for an argument the signature lacks, as the setting that sent it."""
    found = _UNEXPECTED.search(str(exc))
    argument = found.group(1) if found else "?"
    sent = params_sent(op)
    path, name = next(
        ((p, n) for p, n in sent.items() if p.split(".")[-1] == argument), (argument, "extra_params")
    )
    signature = str(exc).partition("Signature: ")[2][:300]
    return ConfigError(
        f"stream {stream}: operation {op.operation} has no parameter {path!r} (set by {name})"
        + (f"; it takes {signature}" if signature else ""),
        field=setting(origin, stream, name),
        fix=f"correct {name} to a parameter the WSDL names, or set it to null if the operation has none",
    )


def incomplete_request(stream: str, op: ErpOperation, exc: Exception, origin: SourceOrigin) -> ConfigError:
    """zeep's ValidationError: a required element (SAP's selection structure) that no setting gives."""
    return ConfigError(
        f"stream {stream}: the request to {op.operation} is incomplete: {str(exc)[:200]}",
        field=setting(origin, stream, "extra_params"),
        fix="give the required element in extra_params, dotted for nesting, e.g. "
        '{"CustomerSimpleSelectionByNameAndAddress.CustomerAddressName": "*"}',
    )


# --- where the next call goes on --------------------------------------------------------------------------


def next_position(stream: str, op: ErpOperation, body: Any, count: int, last_id: str | None,
                  position: str | None, origin: SourceOrigin) -> str | None:  # fmt: skip
    """The token or last id the next call asks from; None when the pass is complete.

    ``count`` and ``last_id`` are the page's records and the id of its last one; ``position`` is what this
    page was asked from. An answer that points back where it was asked from would page forever: refused.
    """
    if op.next_token_field:
        following = id_text(dig(body, op.next_token_field))
    elif op.last_id_param:
        following = _last_returned(stream, op, body, count, last_id, origin)
    else:
        return None
    if following is not None and following == position:
        raise ErpRejected(
            f"stream {stream}: {op.operation} answered the same continuation {following!r} it was asked from; "
            "reading on would repeat the page forever",
            field=setting(origin, stream, "next_token_field" if op.next_token_field else "last_id_field"),
            fix="check that the continuation field and parameter are the right ones; not retried",
        )
    return following


def _last_returned(stream: str, op: ErpOperation, body: Any, count: int, last_id: str | None,
                   origin: SourceOrigin) -> str | None:  # fmt: skip
    """SAP's query paging: go on from the last returned object while MoreHitsAvailableIndicator is true;
    without an indicator configured, until a page comes back empty (or short of a page size we asked)."""
    if op.more_field is not None:
        if not is_true(dig(body, op.more_field)):
            return None
    elif count == 0 or (op.page_size_param and count < op.page_size):
        return None
    following = id_text(dig(body, op.last_id_field)) if op.last_id_field else last_id
    if following is None:
        where = op.last_id_field or f"the last record's {op.id_field}"
        raise ErpRejected(
            f"stream {stream}: {op.operation} says more hits are available but gives no last returned id "
            f"({where} is empty)",
            field=setting(origin, stream, "last_id_field"),
            fix="name the answer field holding the last returned id, e.g. "
            "ProcessingConditions.LastReturnedObjectID; not retried",
        )
    return following
