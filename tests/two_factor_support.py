"""Test support for second factors: an authenticator app that reads the enrolment page.

The codes come from pyotp (the library the service uses is not ours to test, and
a reader's phone runs some other implementation of the same RFC 6238), at the
time of the frozen ``clock``.
"""

from __future__ import annotations

import re

import pyotp

SECRET = re.compile(r'<code class="secret">([A-Z2-7]{16,})</code>')
RECOVERY = re.compile(r"<li><code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})</code></li>")


class AuthenticatorApp:
    """The reader's phone: holds the secret from the enrolment page, shows codes."""

    def __init__(self, secret: str, clock) -> None:
        self.totp = pyotp.TOTP(secret)
        self.clock = clock

    def code(self, steps: int = 0) -> str:
        """The code for now, or ``steps`` time steps (30 s) away."""
        return self.totp.at(self.clock.now().timestamp() + 30 * steps)


def enrol(browser, clock) -> tuple[AuthenticatorApp, list[str]]:
    """Turn on two-step sign-in for the signed-in reader; returns the app and recovery codes."""
    page = browser.get("/account/two-factor")
    assert page.status_code == 200, browser.last_page
    match = SECRET.search(page.get_data(as_text=True))
    assert match, "no secret on the enrolment page"
    app = AuthenticatorApp(match.group(1), clock)
    answer = browser.submit("/account/two-factor", {"code": app.code()})
    assert answer.status_code == 200, browser.last_page
    codes = RECOVERY.findall(answer.get_data(as_text=True))
    assert len(codes) == 10, browser.last_page
    return app, codes
