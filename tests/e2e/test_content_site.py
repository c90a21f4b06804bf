"""The demo content site and the service, as `make demo` runs them: two processes on 127.0.0.1.

A reader signs in through the site's "Sign in" link, comes back signed in (the
service's cookie reaches the site because cookies are not port-isolated), reads
the members' page; from another device the session is revoked on the service's
account page, and the site stops seeing the reader within its cache TTL.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.live import (
    EMAIL,
    NAME,
    Browser,
    LiveService,
    Page,
    api_session,
    live_service,
    responds,
    wait_until,
)

SITE_APP = Path(__file__).resolve().parents[2] / "examples" / "content_site" / "app.py"
TTL = 0.5
ARTICLE = "/articles/enter-the-red-army"
SIGN_IN = re.compile(r'<a class="button signin" href="([^"]+)">Sign in</a>')
SIGN_OUT = re.compile(r'<a class="signout" href="([^"]+)">Sign out</a>')


@pytest.fixture
def both(tmp_path: Path) -> Iterator[tuple[LiveService, str]]:
    """The service (trusting the site's origin) and the site (cache TTL 0.5 s), both live."""
    site_port = free_port()
    site = f"http://127.0.0.1:{site_port}"
    with live_service(tmp_path / "service", trusted_origins=(site,)) as service:
        environ = {key: value for key, value in os.environ.items()
                   if not key.startswith("AUTH_")}
        environ.update(AUTH_SERVICE_URL=service.base, AUTH_SERVICE_CACHE_TTL=str(TTL))
        log_path = tmp_path / "site.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, str(SITE_APP), "--host", "127.0.0.1", "--port", str(site_port)],
                env=environ, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: process.poll() is not None or responds(site + "/"),
                       what="the content site to start")
            assert process.poll() is None, f"the site exited:\n{log_path.read_text()}"
            yield service, site
        finally:
            process.terminate()
            process.wait(timeout=10)


def link(pattern: re.Pattern[str], page: Page) -> str:
    found = pattern.search(page.text)
    assert found, f"no {pattern.pattern} on the page:\n{page.text[:1500]}"
    return html.unescape(found.group(1))


def signed_in_as_reader(page: Page) -> bool:
    return page.status == 200 and f'<span class="name">{NAME}</span>' in page.text


def test_sign_in_read_revoke_from_another_device(both):
    service, site = both
    phone = Browser()

    # Anonymous: the header offers "Sign in", coming back to this very article.
    article = phone.open(site + ARTICLE)
    assert article.status == 200 and "Enter the Red Army" in article.text
    assert "Tito" in article.text and NAME not in article.text
    sign_in = link(SIGN_IN, article)
    assert sign_in == service.base + "/login?" + urllib.parse.urlencode(
        {"return_to": site + ARTICLE})

    # Members only: anonymous readers are sent to sign in and back.
    members = phone.open(site + "/members")
    assert members.status == 302
    assert members.location == service.base + "/login?" + urllib.parse.urlencode(
        {"return_to": site + "/members"})

    # Signing in on the service lands back on the article, signed in.
    return_to = urllib.parse.parse_qs(urllib.parse.urlsplit(sign_in).query)["return_to"][0]
    landed = phone.sign_in(service, return_to=return_to)
    assert landed.location == site + ARTICLE
    article = phone.open(landed.location)
    assert signed_in_as_reader(article)
    assert '<span class="avatar initial" aria-hidden="true"' in article.text  # no avatar_url
    assert ">A</span>" in article.text and "Sign in" not in article.text
    members = phone.open(site + "/members")
    assert members.status == 200 and f'<dd class="email">{EMAIL}</dd>' in members.text
    phone_session = api_session(service, phone.cookie())[1]["session"]["id"]

    # On a laptop, the same reader opens the account page and signs the phone out.
    laptop = Browser()
    assert laptop.sign_in(service).location == "/account"
    account = laptop.open(service.base + "/account/sessions")
    revoke = f"/account/sessions/{phone_session}/revoke"
    assert revoke in account.text
    time.sleep(TTL + 0.1)  # let the site's cached answer lapse, so the next one is fresh
    primed = time.monotonic()
    assert signed_in_as_reader(phone.open(site + ARTICLE))  # cached from now for TTL
    answered = time.monotonic()
    revoked = laptop.submit(service.base + revoke, {}, form_url=service.base + "/account")
    assert revoked.status == 303

    # The service refuses the phone's session at once ...
    assert api_session(service, phone.cookie())[0] == 401
    # ... the site may still show the reader until its cached answer expires ...
    if time.monotonic() < primed + TTL - 0.1:
        assert signed_in_as_reader(phone.open(site + ARTICLE))
    # ... and after the TTL at most, the phone is anonymous on the site.
    time.sleep(max(0.0, answered + TTL + 0.1 - time.monotonic()))
    article = phone.open(site + ARTICLE)
    assert article.status == 200 and NAME not in article.text and SIGN_IN.search(article.text)
    assert phone.open(site + "/members").status == 302

    # The laptop is still signed in on the site; its "Sign out" comes back signed out at once.
    article = laptop.open(site + ARTICLE)
    assert signed_in_as_reader(article)
    sign_out = link(SIGN_OUT, article)
    assert sign_out == service.base + "/logout?" + urllib.parse.urlencode(
        {"return_to": site + ARTICLE})
    done = laptop.submit(service.base + "/logout", {"return_to": site + ARTICLE},
                         form_url=sign_out)
    assert done.status == 303 and done.location == site + ARTICLE
    article = laptop.open(done.location)
    assert article.status == 200 and NAME not in article.text and SIGN_IN.search(article.text)
