"""The kinds of failure every pulled source can have, whatever its protocol, each with what the hub does about it.

Why one module: the ERP and the ``http`` type had each spelled the same categories (an answer too large to read,
a request the source refuses, a source busy for now, a logon refused), so a rule about one — never retry a
refused logon — had to be remembered twice. A type raises these, or a subclass that keeps the name its runs
have recorded (``ErpRejected`` in ``erp_config.py``); ``core.errors`` decides what the class means: stop the
sync (``FatalError``) or retry it, bounded (``RetriableError``).
"""

from __future__ import annotations

from core.errors import FatalError, RetriableError


class AnswerTooLarge(FatalError):
    """An answer over ``max_answer_bytes``, or a page far beyond its page size: reading on would risk the memory
    of the whole hub (a 200 MB page once took 5.7 GB), and asking again brings the same answer."""


class AnswerUnreadable(FatalError):
    """An answer whose records are not where the settings say, or no answer of the declared kind at all: the
    declaration is to correct, and asking again brings the same answer."""


class SourceRejected(FatalError):
    """The source refused our request (a 4xx, a SOAP Client fault, a redirect we do not follow, paging that
    points back where it was): our request, our settings or our rights are wrong; retrying will not help."""


class AuthRefused(SourceRejected):
    """The logon was refused (401/403 after a fresh credential, a WS-Security fault). Never retried: a source
    may lock the hub's user after a few failed logons (SAP's login/fails_to_user_lock, default 5)."""


class SourceBusy(RetriableError):
    """A passing failure the source answered with (a server fault, a 5xx, a 429, an envelope cut short):
    retried with bounded backoff."""


class RateLimited(SourceBusy):
    """A 429: the next attempt waits what the source asked for (``retry_after_s``, honoured by ``retry.py``)."""

    def __init__(self, where: str, retry_after_s: float):
        self.retry_after_s = retry_after_s
        super().__init__(f"{where}: rate limited (429); asked to wait {retry_after_s:g} s")
