"""Why a change could not be published, sorted by what the relay (and an operator) should do about it.

The relay never raises these out of ``publish_pending`` — a change that did not go out simply waits in the
outbox — but their class says in the log and the report whether waiting will help (``RetriableError``) or a
person has to change the configuration first (``ConfigError``). Messages never carry the broker URL: it
holds the password.
"""

from __future__ import annotations

from core.errors import ConfigError, RetriableError, SourceUnavailable


class BrokerUnavailable(SourceUnavailable):
    """RabbitMQ did not answer, dropped the connection, or blocked it (resource alarm) for too long."""


class ChangeNotConfirmed(RetriableError):
    """The broker negatively acknowledged a change (e.g. a bound queue is full with ``reject-publish``)."""


class BrokerRefused(ConfigError):
    """The broker said no for a reason waiting will not fix: login, virtual host, permissions, exchange type."""


FIX_UNAVAILABLE = "changes wait in the outbox until it answers; check the broker and AUTOHUB_OUTBOX__URL"
FIX_NACKED = "it is published again next run; check the bound queues' length limits and the broker log"
FIX_LOGIN = "check the user and password in AUTOHUB_OUTBOX__URL"
FIX_VHOST = "check the virtual host in AUTOHUB_OUTBOX__URL and the user's permissions on it"
FIX_EXCHANGE = (
    "the feed needs a durable topic exchange: set another AUTOHUB_OUTBOX__EXCHANGE or delete the old one"
)
FIX_PERMISSION = "grant the user configure and write permission on the exchange (rabbitmqctl set_permissions)"
