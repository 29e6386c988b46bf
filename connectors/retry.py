"""One retry policy for every connector: exponential backoff with jitter, bounded, retryable errors only.

What is retryable is decided by the error's class (``RetriableError``), never by the connector's mood:
a 4xx, a bad mapping or a bad record is not retried.

Bounded twice: by its attempts, and by what is left of the sync run's total deadline (connectors/sync_clock.py).
A trickling ERP failed each call just under its own deadline and was asked again five times, so one sync held
on for ten minutes. The policy now starts no attempt, and sleeps no backoff, past the run's deadline: when the
next attempt could not start before it, it gives up at once with ``RunDeadlinePassed``, since sleeping towards
a deadline it already knows it will miss would keep the run, and whoever waits on it, waiting for nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import structlog
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from connectors.sync_clock import RunDeadlinePassed, SyncClock, current_clock, run_deadline_passed
from core.errors import HubError, RetriableError

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


class _NoTimeLeft(stop_base):
    """Stop when the next attempt would start at or past the run's deadline (the backoff is known here:
    tenacity asks the wait before the stop)."""

    def __call__(self, retry_state: RetryCallState) -> bool:
        left = current_clock().remaining_s()
        return left is not None and retry_state.upcoming_sleep >= left


def _before_attempt(source: str) -> Callable[[RetryCallState], None]:
    """A first attempt is not started either once the run is over (a call after a page that used it up)."""

    def check(state: RetryCallState) -> None:
        current_clock().check(source)

    return check


def _give_up(source: str, attempts: int) -> Callable[[RetryCallState], Any]:
    """Past its attempts the last error is raised as it came; stopped by the run's deadline, it is raised
    as ``RunDeadlinePassed`` naming the error that was not retried, so the run's record says both."""

    def give_up(state: RetryCallState) -> Any:
        error = state.outcome.exception() if state.outcome else None
        if error is not None and state.attempt_number < attempts:
            raise _stopped_by_deadline(source, state, error, current_clock()) from error
        return state.outcome.result() if state.outcome else None  # raises the last error, as reraise did

    return give_up


def _stopped_by_deadline(
    source: str, state: RetryCallState, error: BaseException, clock: SyncClock
) -> RunDeadlinePassed:
    cause = error.message if isinstance(error, HubError) else str(error)
    left = clock.remaining_s() or 0.0
    when = (
        "is spent"
        if left == 0.0
        else f"ends in {left:.1f} s, before the next attempt could start (in {state.upcoming_sleep:.1f} s)"
    )
    return run_deadline_passed(
        source,
        f"attempt {state.attempt_number} failed ({cause}) and the sync run's total deadline of "
        f"{clock.deadline_s:g} s {when}; not retried",
    )


def retrying(attempts: int, max_wait_s: float, initial_wait_s: float = 0.5, *, source: str) -> Retrying:
    """The policy for one connector; ``source`` is named in the error that ends a run at its deadline."""
    return Retrying(
        retry=retry_if_exception_type(RetriableError) & retry_if_not_exception_type(RunDeadlinePassed),
        stop=stop_after_attempt(attempts) | _NoTimeLeft(),
        wait=_RetryAfterOrBackoff(initial_wait_s, max_wait_s),
        before=_before_attempt(source),
        before_sleep=_log_retry,
        retry_error_callback=_give_up(source, attempts),
    )


def call_with_retry(policy: Retrying, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return policy(fn, *args, **kwargs)
