"""Hostile inputs for the fault suite: each a name, a body (or payload) and the reason the hub must give.

The suite asserts the invariant, not the symptom: every valid record stored exactly once, every hostile one
quarantined with a reason, nothing lost beside it.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from tests.mappings.test_sources import DMS_LEAD

T = TypeVar("T")


@dataclass(frozen=True)
class Hostile:
    name: str
    body: bytes
    reason: str  # the quarantine reason, or its prefix ending in "."


def good_lead(n: int) -> dict[str, Any]:
    """A valid DMS lead, distinct per ``n`` (message id, customer id, mobile)."""
    event = copy.deepcopy(DMS_LEAD)
    event["message_id"] = f"good-{n}"
    event["customer"]["dms_customer_id"] = f"D31001-{n:06d}"
    event["customer"]["mobile"] = f"139{n:08d}"
    return event


def _lead(n: int, **customer: Any) -> dict[str, Any]:
    event = good_lead(n)
    event["message_id"] = f"bad-{n}"
    event["customer"].update(customer)
    return event


def _json(event: Any) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8", "surrogatepass")


def hostile_dms_bodies(start: int = 900_000) -> Iterator[Hostile]:
    """Bodies a broken or malicious dealer system can publish; ``start`` keeps their ids apart from good ones."""
    n = start
    deep: Any = "x"
    for _ in range(200):
        deep = {"a": deep}
    very_deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    cases = [
        ("nul in a name", _json(_lead(n, name="王\u0000伟")), "unsafe_input.nul_character"),
        ("nul in a field name", _json({**_lead(n + 1), "x\u0000y": 1}), "unsafe_input.nul_character"),
        ("lone surrogate", _json(_lead(n + 2, name="王\udcff伟")), "unsafe_input.lone_surrogate"),
        (
            "over-long customer id",
            _json(_lead(n + 3, dms_customer_id="C" * 5000)),
            "unsafe_input.key_too_long",
        ),
        (
            "over-long message id",
            _json({**_lead(n + 4), "message_id": "m" * 5000}),
            "unsafe_input.id_too_long",
        ),
        ("nested 200 deep", _json({**_lead(n + 5), "extra": deep}), "unsafe_input.too_deep"),
        ("nested 100 000 deep", very_deep, "unsafe_input.too_deep"),
        (
            "Infinity",
            _json(_lead(n + 6)).replace(b'"gender": "\xe7\x94\xb7"', b'"gender": Infinity'),
            "unsafe_input.non_finite_number",
        ),
        (
            "1e5000",
            _json(_lead(n + 7)).replace(b'"gender": "\xe7\x94\xb7"', b'"gender": 1e5000'),
            "unsafe_input.non_finite_number",
        ),
        ("integer of 5 000 digits", b'{"event_type": "lead", "n": ' + b"9" * 5000 + b"}", "not_json"),
        ("raw NUL byte", b'{"event_type": "lead",\x00 "message_id": "x"}', "not_json"),
        ("not UTF-8", b'{"event_type": "lead", "name": "\xff\xfe"}', "not_json"),
        ("event type a list", _json({**_lead(n + 8), "event_type": ["lead"]}), "unknown_event_type"),
        ("event type an object", _json({**_lead(n + 9), "event_type": {"a": 1}}), "unknown_event_type"),
        ("a JSON list", b"[1, 2, 3]", "not_json"),
        ("a text of 1 MB", _json(_lead(n + 10, name="王" * 1_000_000)), "unsafe_input.text_too_long"),
        # a list where the mapping reads an object's field: named as such (mappings/paths.py), not a blank
        ("wrong types", _json({**_lead(n + 11), "customer": ["not", "an", "object"]}), "path_into_list"),
    ]
    for name, body, reason in cases:
        yield Hostile(name, body, reason)


def reason_matches(actual: str, expected: str) -> bool:
    return actual.startswith(expected) if expected.endswith(".") else actual == expected


def within(seconds: float, what: str, fn: Callable[[], T]) -> T:
    """``fn()`` in a helper thread: a test of a deadline fails here (saying ``what`` went wrong) rather than hang."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed to the test below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds:g} s: {what}"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
