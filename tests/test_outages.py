"""Dependencies that go away: Redis (the rate limits' storage) and a PostgreSQL restart.

Redis down: limits fall back to each process's memory, with a logged warning and a
metric, and sign-in keeps working (docs/operations.md says why). PostgreSQL
restarted: the connections the service held are dead, and the next requests
reconnect by themselves (pool_pre_ping for the ORM, a retry on the hot path).
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import create_engine, text

from auth_service.extensions import limiter
from tests.conftest import READER, TEST_DATABASE_URL, free_port
from tests.test_metrics import value

CLOSED = f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture
def redis_down():
    yield
    # Flask-Limiter is one object for every app of the process: the next test's app
    # (with a working storage) must not start out believing it dead.
    limiter._storage_dead = False


@pytest.mark.settings(REDIS_URL=CLOSED, RATELIMIT_ENABLED=True)
def test_redis_down_sign_in_still_works_and_says_so(app, client, browser, reader, caplog,
                                                     redis_down):
    assert app.config["RATELIMIT_STORAGE_URI"] == CLOSED
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        page = browser.login(READER)
    assert page.status_code == 303 and page.headers["Location"] == "/account"
    assert any("storage unreachable" in r.getMessage() for r in caplog.records)
    assert value(client, "auth_rate_limit_storage_errors_total") >= 1
    assert client.get("/readyz").json["checks"]["redis"] == {"ok": False}


@pytest.mark.settings(REDIS_URL=CLOSED, RATELIMIT_ENABLED=True)
def test_redis_down_limits_still_hold_in_memory(browser, reader, redis_down):
    statuses = [browser.login(READER, "not the password!").status_code for _ in range(11)]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429


postgres_only = pytest.mark.skipif(
    not (TEST_DATABASE_URL or "").startswith("postgresql"),
    reason="needs AUTH_TEST_DATABASE_URL on PostgreSQL (set by .ci/run)")


def terminate_service_connections() -> int:
    """What a PostgreSQL restart does to the service: every connection of it is gone."""
    engine = create_engine(TEST_DATABASE_URL)
    try:
        with engine.connect() as connection:
            ended = connection.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    finally:
        engine.dispose()
    return int(ended or 0)


@postgres_only
def test_requests_after_a_postgresql_restart_recover_by_themselves(browser, reader):
    assert browser.login(READER).status_code == 303
    assert browser.get("/api/session").status_code == 200
    assert browser.get("/account").status_code == 200
    assert terminate_service_connections() >= 1
    # The hot path's kept connection, the ORM's pool, and a write: each just works.
    assert browser.get("/api/session").status_code == 200
    assert browser.get("/account").status_code == 200
    assert browser.get("/readyz").status_code == 200
    assert browser.submit("/logout", {}).status_code == 303
    assert terminate_service_connections() >= 1
    assert browser.login(READER).status_code == 303
    assert browser.get("/api/session").status_code == 200
