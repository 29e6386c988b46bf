"""Exceptions raised by the identifier rules.

Each carries a machine-readable ``reason`` (stored with quarantined records) and a message that names the
identifier, what is wrong and what to do about it. Sensitive values are masked in the message so that an
exception that reaches a log never leaks a full ID number.
"""

from __future__ import annotations


class InvalidIdentifier(ValueError):
    """An identifier failed validation; ``reason`` says which rule it broke."""

    kind: str = "identifier"

    def __init__(self, reason: str, message: str, *, shown_value: str, suggestion: str | None = None):
        self.reason = reason
        self.shown_value = shown_value
        self.suggestion = suggestion
        text = f"{self.kind} {shown_value!r}: {message}"
        if suggestion:
            text += f" (did you mean {suggestion!r}?)"
        super().__init__(text)
        self.message = text


class InvalidVin(InvalidIdentifier):
    kind = "VIN"


class InvalidResidentId(InvalidIdentifier):
    kind = "resident ID"


class InvalidUscc(InvalidIdentifier):
    kind = "unified social credit code"


class InvalidMobile(InvalidIdentifier):
    kind = "mobile number"


class InvalidPlate(InvalidIdentifier):
    kind = "licence plate"


class InvalidLandline(InvalidIdentifier):
    kind = "landline number"


class InvalidOrgCode(InvalidIdentifier):
    kind = "organisation code"
