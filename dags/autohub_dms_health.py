"""DMS feed health: events waiting, dead letters and consumers on RabbitMQ, failing loudly past the limits.

The DMS consumer is a long-running service (``autohub dms consume``), not a DAG; this check is how a scheduler
notices that it stopped, fell behind or is dead-lettering dealer events — for every declared dealer network
(type ``amqp`` in the sources file), each with its own queues. Calls ``jobs.dms_health.check_networks``
— the function behind ``autohub dms health``. Limits: ``AUTOHUB_ORCHESTRATION__DMS_MAX_READY``,
``…__DMS_MAX_DEAD``, ``…__DMS_REQUIRE_CONSUMER``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task

from jobs.config import orchestration_settings

_settings = orchestration_settings()


@dag(
    dag_id="autohub_dms_health",
    schedule=_settings.dms_health_schedule,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    # A health check is not retried for minutes: the next scheduled check is the retry.
    default_args={"retries": 0, "execution_timeout": timedelta(minutes=2)},
    tags=["autohub", "dms", "health"],
    doc_md=__doc__,
)
def autohub_dms_health() -> None:
    @task
    def check_feed() -> dict[str, dict[str, int | str]]:
        from core.settings import get_settings
        from jobs.dms_health import check_networks
        from jobs.store_access import store_sessions

        settings = get_settings()
        with store_sessions(settings) as sessions:
            healths = check_networks(settings, sessions)
        answer: dict[str, dict[str, int | str]] = {}
        for name, health in healths.items():  # every declared dealer network (type amqp)
            print(f"{name}: {health.describe()}")
            answer[name] = {"queue": health.queue, "ready": health.ready, "dead": health.dead,
                            "consumers": health.consumers, "waiting_for_matching": health.match_queued}  # fmt: skip
        return answer

    check_feed()


autohub_dms_health()
