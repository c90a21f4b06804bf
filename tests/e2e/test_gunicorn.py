"""The service under gunicorn with the production settings (gunicorn.conf.py).

Its ``sync`` workers serve one request at a time, so the one request that waits
on the internet, a social sign-in calling its provider, must never hold every
worker: page views (``GET /api/session``) would wait for the provider too.
"""

from __future__ import annotations

import html
import select
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.live import Browser, api_session, live_service, wait_until


@pytest.fixture
def hanging_provider():
    """An OpenID Connect discovery URL whose server accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        yield listener, f"http://127.0.0.1:{port}/.well-known/openid-configuration"


def test_a_hanging_provider_never_takes_the_last_worker(tmp_path, hanging_provider):
    listener, discovery = hanging_provider
    provider = {"AUTH_OIDC_SLOW_DISCOVERY_URL": discovery, "AUTH_OIDC_SLOW_CLIENT_ID": "site",
                "AUTH_OIDC_SLOW_CLIENT_SECRET": "s3cret", "AUTH_OIDC_SLOW_LABEL": "Slow ID",
                "AUTH_PROVIDER_TIMEOUT": "4"}
    # Two workers: gunicorn.conf.py lets one sign-in wait on a provider at a time.
    with live_service(tmp_path, gunicorn_workers=2, environment=provider) as service:
        reader = Browser()
        reader.sign_in(service)
        token = reader.cookie()
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(Browser().open, service.base + "/login/slow")
            # It is waiting on the provider once its connection is queued there.
            wait_until(lambda: select.select([listener], [], [], 0)[0],
                       what="the first sign-in to call the provider")
            asked = time.monotonic()
            second = Browser().open(service.base + "/login/slow")
            assert second.status == 503
            assert "Please try again in a moment" in second.text
            assert api_session(service, token)[0] == 200  # the page views still go through
            assert time.monotonic() - asked < 2, "they waited for the provider"
            # The first one gives up after AUTH_PROVIDER_TIMEOUT, with a page that says so.
            assert first.result(timeout=15).status == 400
            assert "couldn't reach Slow ID" in html.unescape(first.result().text)
        # Its slot is free again: the next sign-in goes to the provider (which still hangs).
        assert Browser().open(service.base + "/login/slow").status == 400


def test_serve_adds_up_every_workers_counts_in_metrics(tmp_path):
    # `auth-service serve`: gunicorn.conf.py gives the workers one metrics folder.
    with live_service(tmp_path, gunicorn_workers=2) as service:
        reader = Browser()
        for _ in range(12):
            assert reader.open(service.base + "/login").status == 200
        page = reader.open(service.base + "/metrics")
        assert page.status == 200
        line = [row for row in page.text.splitlines()
                if row.startswith('auth_request_duration_seconds_count{route="login.login"}')]
        assert line and float(line[0].split()[-1]) == 12, page.text[:2000]
        assert "pid" not in page.text  # one sum, not one series per worker
