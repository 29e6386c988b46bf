"""What a scheduled task does with the hub's errors: a fatal one fails the task at once, the rest are retried.

Why: Airflow retries every failed task with backoff (``AUTOHUB_ORCHESTRATION__RETRIES``) — right for an outage,
wrong for a source declared wrongly, a missing setting or refused credentials, where three more attempts an hour
apart only delay the message someone must act on (and a refused password retried locks the user at an ERP that
allows five tries). The hub's own error tree says which is which (``core.errors``): a ``FatalError`` — a
``ConfigError`` among them — and a settings value pydantic refuses become ``AirflowFailException``, which fails
the task without its retries; a ``RetriableError`` or anything unknown is left for the retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError

from core.errors import FatalError


@contextmanager
def failing_fast() -> Iterator[None]:
    """Around a task's call into ``jobs``: the message is the hub's own (record, field, fix)."""
    try:
        yield
    except (FatalError, ValidationError) as exc:
        from airflow.sdk.exceptions import AirflowFailException  # only ever raised inside a task

        raise AirflowFailException(
            f"{type(exc).__name__}: {exc} (not retried: a retry cannot fix it)"
        ) from exc
