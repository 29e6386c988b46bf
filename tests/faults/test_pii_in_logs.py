"""No clear PII in any log line, whoever writes it: the store's errors, libraries' loggers, our own structured
events with a traceback, a thread or a process dying. The probe found a customer's name and full mobile in the
consumer's log (a SQLAlchemy traceback) and searched values in the API's."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core.logging import configure
from store.engine import create_store_engine

NAME, MOBILE, RESIDENT_ID, EMAIL = "王伟", "13912345678", "11010519491231002X", "wang.wei@example.com"
SECRETS = (NAME, MOBILE, RESIDENT_ID, EMAIL, "139 1234 5678")


def _customer_error() -> ValueError:
    return ValueError(f"cannot store {NAME} ({MOBILE}, 139 1234 5678, {RESIDENT_ID}, {EMAIL}) "
                      f"for GET /v1/customers?name={NAME}&mobile={MOBILE}")  # fmt: skip


def _clear(err: str) -> list[str]:
    return [s for s in SECRETS if s in err]


def test_a_store_error_does_not_carry_the_statement_values(tmp_path: object) -> None:
    engine = create_store_engine("sqlite://")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE customer (name TEXT, mobile TEXT UNIQUE)"))
        connection.execute(text("INSERT INTO customer VALUES (:n, :m)"), {"n": NAME, "m": MOBILE})
    with pytest.raises(IntegrityError) as failed, engine.begin() as connection:
        connection.execute(text("INSERT INTO customer VALUES (:n, :m)"), {"n": NAME, "m": MOBILE})
    assert "UNIQUE" in str(failed.value)
    assert _clear(str(failed.value)) == []
    engine.dispose()


def test_a_library_traceback_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure("INFO", "console")
    try:
        raise _customer_error()
    except ValueError:
        logging.getLogger("sqlalchemy.pool").error("exception during reset", exc_info=True)
    err = capsys.readouterr().err
    assert "ValueError: cannot store 王* (139****5678" in err
    assert "Traceback" in err
    assert _clear(err) == []


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_our_own_event_with_a_traceback_is_masked(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    configure("INFO", fmt)
    structlog.get_logger("hub_api").error("unhandled error", error=_customer_error(), exc_info=_customer_error(),
                                          fields=[MOBILE, {"to": EMAIL}])  # fmt: skip
    err = capsys.readouterr().err
    assert "unhandled error" in err
    assert "ValueError" in err
    assert _clear(err) == []


def test_a_thread_that_dies_prints_a_masked_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    configure("INFO", "console")

    def fail() -> None:
        raise _customer_error()

    thread = threading.Thread(target=fail, name="consumer")
    thread.start()
    thread.join()
    err = capsys.readouterr().err
    assert "Exception in thread consumer" in err
    assert _clear(err) == []


def test_a_process_that_dies_prints_a_masked_traceback() -> None:
    script = ("from core.logging import configure\nconfigure()\n"
              f"raise RuntimeError('{NAME} {MOBILE} {EMAIL}')\n")  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert "RuntimeError: 王* 139****5678 w***@example.com" in done.stderr
    assert _clear(done.stderr) == []
