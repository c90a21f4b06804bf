"""Per-IP limits and the audit log behind a proxy: a spoofed X-Forwarded-For from a client
that reaches the service around the proxy, limits counted per process, and doctor's view."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from auth_service.cli.listening import Listener, exposed
from auth_service.models import AuditEvent
from tests.conftest import Browser
from tests.live import live_service

OUTSIDER = "203.0.113.9"  # a public address, not one of the proxy's networks
PRODUCTION = {"ENV": "production", "SECRET_KEY": "a-production-secret-" + "q7Z" * 10,
              "BASE_URL": "https://login.example.com", "TRUSTED_PROXIES": 1,
              "RATELIMIT_ENABLED": True}


def forgot_from(app, remote: str, forwarded: str, email: str = "x@example.com") -> int:
    browser = Browser(app.test_client())
    browser.client.environ_base.update(REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    return browser.submit("/password/forgot", {"email": email}).status_code


@pytest.mark.settings(TRUSTED_PROXIES=1, RATELIMIT_ENABLED=True)
def test_a_spoofed_forwarded_for_from_outside_the_proxy_is_ignored(app, db_session):
    # Each request claims another client address (and asks for another address, so the
    # per-address limit stays out of it): the per-IP limit still sees one client.
    statuses = [forgot_from(app, OUTSIDER, f"198.51.100.{i}", f"r{i}@example.com")
                for i in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    recorded = {e.ip for e in db_session.scalars(select(AuditEvent))}
    assert recorded == {OUTSIDER}, "fake addresses reached the audit log"


@pytest.mark.settings(TRUSTED_PROXIES=1)
def test_the_proxys_forwarded_for_is_believed(app, db_session):
    assert forgot_from(app, "127.0.0.1", "198.51.100.7") == 200
    assert {e.ip for e in db_session.scalars(select(AuditEvent))} == {"198.51.100.7"}


@pytest.mark.settings(TRUSTED_PROXIES=1, TRUSTED_PROXY_NETWORKS=("10.1.0.0/16",))
def test_the_proxy_networks_are_configurable(app, db_session):
    assert forgot_from(app, "127.0.0.1", "198.51.100.7") == 200  # not the proxy's network now
    assert forgot_from(app, "10.1.2.3", "198.51.100.8") == 200
    assert {e.ip for e in db_session.scalars(select(AuditEvent))} == {"127.0.0.1",
                                                                     "198.51.100.8"}


def doctor(runner) -> dict[str, list[str]]:
    result = runner.invoke(["doctor"])
    found: dict[str, list[str]] = {}
    for line in result.output.splitlines():
        level, _, rest = line.partition(" ")
        check, _, message = rest.strip().partition(": ")
        found.setdefault(check, []).append(f"{level} {message}")
    return found


@pytest.mark.settings(**PRODUCTION, REDIS_URL=None)
def test_doctor_fails_production_without_redis(runner):
    lines = doctor(runner)["rate limits"]
    assert lines[0].startswith("FAIL")
    assert "AUTH_REDIS_URL" in lines[0] and "every gunicorn worker" in lines[0]


@pytest.mark.settings(**PRODUCTION, REDIS_URL="redis://127.0.0.1:1/0")
def test_doctor_fails_a_redis_that_does_not_answer(runner):
    found = doctor(runner)
    assert found["redis"][0].startswith("FAIL AUTH_REDIS_URL does not answer")
    assert found["rate limits"][0].startswith("OK counted in Redis")


@pytest.mark.skipif(not os.environ.get("AUTH_TEST_REDIS_URL"),
                    reason="needs AUTH_TEST_REDIS_URL (set by .ci/run)")
@pytest.mark.settings(**PRODUCTION)
def test_doctor_is_content_with_redis(runner):
    found = doctor(runner)
    assert found["rate limits"][0].startswith("OK counted in Redis")
    assert found["redis"] == ["OK AUTH_REDIS_URL answers."]


@pytest.mark.settings(**PRODUCTION, TRUSTED_PROXY_NETWORKS=("0.0.0.0/0",))
def test_doctor_warns_of_proxy_networks_that_are_public(runner):
    assert any(line.startswith("WARN AUTH_TRUSTED_PROXY_NETWORKS includes public networks")
               for line in doctor(runner)["proxy"])


def test_doctor_sees_where_the_running_service_listens(app, runner, tmp_path):
    app.config.update(PRODUCTION, TRUSTED_PROXIES=1)
    with live_service(tmp_path) as service:
        lines = doctor(runner)["proxy"]
    assert any(line.startswith("OK") and f"127.0.0.1:{service.port}" in line for line in lines)


WILDCARD = "0.0.0." + "0"  # what "listen on every interface" looks like (not bound here)


@pytest.mark.parametrize("address, host, reachable", [
    ("127.0.0.1", ["127.0.0.1", "192.0.2.10"], False),
    ("10.0.0.5", ["10.0.0.5"], False),
    (WILDCARD, ["127.0.0.1", "10.0.0.5"], False),  # every interface, none of them public
    (WILDCARD, ["127.0.0.1", "8.8.4.4"], True),
    ("::", ["::1", "2001:4860::8888"], True),
    ("8.8.4.4", ["8.8.4.4"], True),
])
def test_what_counts_as_reachable_around_the_proxy(address, host, reachable):
    assert exposed(Listener(address, 8000, 1), host) is reachable
