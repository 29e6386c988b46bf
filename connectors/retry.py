"""One retry policy for every connector: exponential backoff with jitter, bounded, retryable errors only.

What is retryable is decided by the error's class (``RetriableError``), never by the connector's mood:
a 4xx, a bad mapping or a bad record is not retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import structlog
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from core.errors import RetriableError

T = TypeVar("T")
log = structlog.get_logger(__name__)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "retrying", attempt=state.attempt_number, error=str(error), wait_s=round(state.upcoming_sleep, 2)
    )


class _RetryAfterOrBackoff:
    """Wait what the server asked for (HTTP 429/503 ``Retry-After``), else exponential backoff with jitter."""

    def __init__(self, initial_wait_s: float, max_wait_s: float):
        self.backoff = wait_random_exponential(multiplier=initial_wait_s, max=max_wait_s)
        self.max_wait_s = max_wait_s

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        asked = getattr(error, "retry_after_s", None)
        if asked is not None:
            return float(min(max(asked, 0.0), self.max_wait_s))
        return float(self.backoff(state))


def retrying(attempts: int, max_wait_s: float, initial_wait_s: float = 0.5) -> Retrying:
    return Retrying(
        retry=retry_if_exception_type(RetriableError),
        stop=stop_after_attempt(attempts),
        wait=_RetryAfterOrBackoff(initial_wait_s, max_wait_s),
        before_sleep=_log_retry,
        reraise=True,
    )


def call_with_retry(policy: Retrying, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return policy(fn, *args, **kwargs)
