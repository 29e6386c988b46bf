"""The one masking rule, beside the logging that masks with it (canonical_model builds each identifier's on it)."""

from __future__ import annotations


def mask_middle(value: str, keep_start: int, keep_end: int, fill: str = "*") -> str:
    """Keep the first ``keep_start`` and last ``keep_end`` characters, fill the rest.

    Short values are masked whole: showing most of a short secret defeats the purpose.
    """
    if len(value) <= keep_start + keep_end:
        return fill * len(value)
    return value[:keep_start] + fill * (len(value) - keep_start - keep_end) + value[len(value) - keep_end :]
