"""Passkeys in a real browser: Chromium (Debian's, driven by Playwright) with its virtual
authenticator (CDP WebAuthn domain) stands in for a phone with a fingerprint reader.

The reader signs in with a password, registers a passkey on /account/security through
auth_service/static/passkeys.js, signs out, and signs in with the passkey alone.
The service is the test app served on localhost (WebAuthn needs a secure context
and a domain for the RP ID; http://localhost is both), so AUTH_BASE_URL is that.
Playwright never downloads a browser here: it starts /usr/bin/chromium.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, READER, free_port
from tests.oidc_support import serve_on

CHROMIUM = Path("/usr/bin/chromium")

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("tests/e2e/test_passkeys_browser.py needs /usr/bin/chromium "
                    "(.ci/run installs it)", pytrace=False)
    pytest.skip("needs /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(settings: dict, port: int) -> dict:
    return {"BASE_URL": f"http://localhost:{port}", **settings}


@pytest.fixture
def base(app, port):
    with serve_on(app, port):
        yield f"http://localhost:{port}"


def virtual_authenticator(context, page) -> dict:
    """Chromium's virtual authenticator: a platform passkey provider that verifies the user."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    created = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    return {"cdp": cdp, "id": created["authenticatorId"]}


# The login page also starts a conditional (autofill) request, which the virtual
# authenticator answers at once; to press the button instead, a page can say "no autofill".
NO_AUTOFILL = """
if (sessionStorage.getItem("no-autofill") && window.PublicKeyCredential) {
  PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
}
"""


def sign_out(page, base):
    page.goto(f"{base}/logout")
    page.click("form[action='/logout'] button[type=submit]")
    page.wait_for_url(f"{base}/login**")


def test_register_a_passkey_then_sign_in_with_it_alone(base, chromium, reader):
    context = chromium.new_context()
    context.add_init_script(NO_AUTOFILL)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    authenticator = virtual_authenticator(context, page)

    page.goto(f"{base}/login")
    page.fill("input[name=email]", READER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/account")
    page.goto(f"{base}/account/security")

    page.fill("[data-passkey-name]", "Test laptop")
    page.click("[data-passkey-register] [data-passkey-start]")
    page.wait_for_url(f"{base}/account/security?done=passkey_added#passkeys-heading")
    assert "Test laptop" in page.inner_text("#passkeys-heading + p + ul")
    stored = authenticator["cdp"].send("WebAuthn.getCredentials",
                                       {"authenticatorId": authenticator["id"]})
    assert len(stored["credentials"]) == 1 and stored["credentials"][0]["isResidentCredential"]

    # "Sign in with a passkey": no address, no password.
    page.evaluate("sessionStorage.setItem('no-autofill', '1')")
    sign_out(page, base)
    assert page.evaluate("fetch('/api/session').then(r => r.status)") == 401
    page.click("[data-passkey-login] [data-passkey-start]")
    page.wait_for_url(f"{base}/account")
    session = page.evaluate("fetch('/api/session').then(r => r.json())")
    assert session["user"]["email"] == READER
    assert session["session"]["amr"] == ["hwk"]
    page.goto(f"{base}/account/security")
    assert "last used" in page.inner_text("#passkeys-heading + p + ul")

    # The address field's autofill (conditional mediation): the login page asks by itself.
    page.evaluate("sessionStorage.removeItem('no-autofill')")
    sign_out(page, base)
    page.wait_for_url(f"{base}/account")
    session = page.evaluate("fetch('/api/session').then(r => r.json())")
    assert session["session"]["amr"] == ["hwk"]
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
