"""What the long-running commands (``autohub match follow``, ``autohub outbox relay``) share: a clean stop.

Why a module of its own: both are workers a supervisor stops with SIGTERM, and both must finish the batch in
hand first; the two command groups should not import each other for it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT/SIGTERM end the relay after its current batch is committed, not in the middle of it (which would
    only re-publish, but needlessly). The previous handlers come back afterwards."""
    import signal

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
