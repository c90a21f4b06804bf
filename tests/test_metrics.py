"""``GET /metrics``: who may read it, what it counts, and that no label holds a reader's data."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import READER, register

OUTSIDER = {"REMOTE_ADDR": "203.0.113.9"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape: (name, sorted labels) → value."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(client, name: str, **labels: str) -> float:
    """One series' value now (0 when it has not been counted yet)."""
    page = client.get("/metrics")
    assert page.status_code == 200, page.status_code
    return samples(page.get_data(as_text=True)).get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_from_the_loopback_in_prometheus_text_format(client):
    page = client.get("/metrics")
    assert page.status_code == 200
    assert page.mimetype == "text/plain"
    text = page.get_data(as_text=True)
    for name in ("auth_sign_ins_total", "auth_mail_pending", "auth_mail_oldest_pending_seconds",
                 "auth_request_duration_seconds", "auth_session_checks_total"):
        assert f"# TYPE {name.removesuffix('_total')}" in text, name


def test_metrics_refused_from_an_address_outside_the_allowed_networks(client):
    page = client.get("/metrics", environ_base=OUTSIDER)
    assert page.status_code == 403
    assert "auth_" not in page.get_data(as_text=True)


def test_a_forwarded_request_is_not_taken_for_the_loopback(client):
    # TRUSTED_PROXIES is 0: a proxy on 127.0.0.1 forwards a client from anywhere.
    page = client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
    assert page.status_code == 403


@pytest.mark.settings(TRUSTED_PROXIES=1, METRICS_ALLOW=("10.0.0.0/8",))
def test_the_address_behind_a_trusted_proxy_decides(app):
    proxy = {"REMOTE_ADDR": "192.168.1.2"}
    client = app.test_client()
    inside = client.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"}, environ_base=proxy)
    outside = client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"},
                         environ_base=proxy)
    assert (inside.status_code, outside.status_code) == (200, 403)


@pytest.mark.settings(METRICS_TOKEN="s3cret-metrics-token-0123456789")
def test_the_token_opens_metrics_from_anywhere_and_a_wrong_one_nowhere(client):
    right = {"Authorization": "Bearer s3cret-metrics-token-0123456789"}
    assert client.get("/metrics", headers=right, environ_base=OUTSIDER).status_code == 200
    for wrong in ("Bearer s3cret-metrics-token-012345678", "Bearer ", "Basic czNjcmV0",
                  "s3cret-metrics-token-0123456789"):
        headers = {"Authorization": wrong}
        assert client.get("/metrics", headers=headers, environ_base=OUTSIDER).status_code == 401
        # A wrong token is refused from the loopback too: it was meant to be used.
        assert client.get("/metrics", headers=headers).status_code == 401


def test_no_token_configured_means_no_token_works(client):
    page = client.get("/metrics", headers={"Authorization": "Bearer "}, environ_base=OUTSIDER)
    assert page.status_code == 401


def test_sign_ins_are_counted_by_method_and_result(client, browser, reader):
    ok = ("auth_sign_ins_total", {"method": "password", "result": "success"})
    bad = ("auth_sign_ins_total", {"method": "password", "result": "bad_credentials"})
    before = value(client, ok[0], **ok[1]), value(client, bad[0], **bad[1])
    assert browser.login(READER, "not the password at all").status_code == 400
    assert browser.login(READER).status_code == 303
    after = value(client, ok[0], **ok[1]), value(client, bad[0], **bad[1])
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)


def test_registrations_and_the_mail_they_queue_are_counted(client, browser, deliver):
    created = value(client, "auth_registrations_total", method="password", result="created")
    duplicate = value(client, "auth_registrations_total", method="password", result="duplicate")
    sent = value(client, "auth_mail_sent_total")
    register(browser, "first@example.com")
    register(browser, "first@example.com")
    assert value(client, "auth_mail_pending") == 2
    assert value(client, "auth_mail_oldest_pending_seconds") >= 0
    assert value(client, "auth_registrations_total", method="password",
                 result="created") == created + 1
    assert value(client, "auth_registrations_total", method="password",
                 result="duplicate") == duplicate + 1
    deliver()
    assert value(client, "auth_mail_sent_total") == sent + 2
    assert value(client, "auth_mail_pending") == 0


def test_the_oldest_pending_mail_ages(client, browser, clock):
    register(browser, "waiting@example.com")
    clock.advance(minutes=5)
    assert value(client, "auth_mail_oldest_pending_seconds") == 300


def test_session_checks_are_counted_by_status(client):
    before = value(client, "auth_session_checks_total", status="401")
    timed = value(client, "auth_request_duration_seconds_count", route="api.session")
    assert client.get("/api/session").status_code == 401
    assert client.get("/api/session", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert value(client, "auth_session_checks_total", status="401") == before + 2
    assert value(client, "auth_request_duration_seconds_count", route="api.session") == timed + 2


def test_latency_is_per_route_never_per_path(client):
    token = "IjEyMyI.Zz9xYw.secret-looking-token-value"
    client.get(f"/confirm/{token}")
    client.get("/no/such/page/reader@example.com")
    text = client.get("/metrics").get_data(as_text=True)
    routes = {dict(s.labels).get("route") for family in text_string_to_metric_families(text)
              for s in family.samples if s.name.startswith("auth_request_duration")}
    assert "verification.confirm" in routes
    assert "unmatched" in routes
    assert token not in text and "reader@example.com" not in text and "/confirm" not in text


@pytest.mark.settings(RATELIMIT_ENABLED=True)
def test_rate_limit_hits_are_counted_by_rule(client, browser):
    before = value(client, "auth_rate_limit_hits_total", rule="address")
    statuses = [browser.submit("/password/forgot", {"email": "x@example.com"}).status_code
                for _ in range(11)]
    assert statuses[-1] == 429
    assert value(client, "auth_rate_limit_hits_total", rule="address") == before + 1
    assert "x@example.com" not in client.get("/metrics").get_data(as_text=True)


def test_labels_never_hold_an_address_or_a_name(client, browser, reader):
    browser.login(READER, "wrong password, surely")
    browser.login(READER)
    browser.get("/account")
    text = client.get("/metrics").get_data(as_text=True)
    assert READER not in text and "Ann Reader" not in text and "127.0.0.1" not in text


COUNT_ONE = textwrap.dedent("""
    from auth_service import metrics
    metrics.audit_event("login.succeeded", {"method": "password"})
    metrics.mail_delivered(sent=3, retrying=0, failed=1)
""")
SCRAPE = textwrap.dedent("""
    import sys
    from auth_service import create_app
    app = create_app({"SECRET_KEY": "x" * 32, "DATABASE_URL": sys.argv[1],
                      "INSTANCE_PATH": sys.argv[2]})
    print(app.test_client().get("/metrics").get_data(as_text=True))
""")


def test_processes_add_up_in_multiprocess_mode(tmp_path, database_url):
    # Two web workers and a mail worker each count; any process's /metrics sees the sum.
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    for _ in range(3):
        subprocess.run([sys.executable, "-c", COUNT_ONE], env=env, check=True)
    scrape = subprocess.run([sys.executable, "-c", SCRAPE, database_url, str(tmp_path / "i")],
                            env=env, check=True, capture_output=True, text=True).stdout
    found = samples(scrape)
    assert found[("auth_sign_ins_total", (("method", "password"), ("result", "success")))] == 3
    assert found[("auth_mail_sent_total", ())] == 9
    assert found[("auth_mail_failed_total", ())] == 3


def test_docs_name_every_series():
    from pathlib import Path

    from auth_service import metrics

    docs = (Path(__file__).resolve().parents[1] / "docs" / "operations.md").read_text()
    names = {family.name for family in metrics.REGISTRY.collect()}
    names |= {"auth_mail_pending", "auth_mail_oldest_pending_seconds"}
    for name in names:
        suffix = "_total" if name not in {"auth_request_duration_seconds", "auth_mail_pending",
                                          "auth_mail_oldest_pending_seconds"} else ""
        assert f"`{name}{suffix}`" in docs, name
