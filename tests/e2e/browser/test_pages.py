"""Every page of the service, as a reader meets it: photographed, checked by axe, on a phone.

One walk through the pages (signed out, then signed in) stops at each and
- photographs it 390 px wide (a phone) and 1280 px wide (a laptop) into
  docs/screenshots/, the README's gallery (written only when the picture changed);
- checks nothing scrolls sideways 320 px wide (WCAG 1.4.10, reflow);
- runs axe-core in light and in dark mode (``prefers-color-scheme: dark``):
  no serious or critical violation.
The clock is frozen for the walk, so the dates on the pages, and the pictures, stay
the same from one run to the next. docs/accessibility.md says what is checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from auth_service import clock
from tests.browser import ROOT, axe_script
from tests.conftest import PASSWORD
from tests.e2e.browser.conftest import Live

SCREENSHOTS = ROOT / "docs" / "screenshots"
WIDTHS = (390, 1280)
NARROWEST = 320
FROZEN = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
READER, READER_NAME = "ana@example.com", "Ana Marić"

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
}"""


@dataclass
class Tour:
    """What the walk saw: each page's name and title, and every problem found."""

    page: Page
    titles: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def stop(self, name: str, mask: tuple[str, ...] = ()) -> None:
        """Photograph, reflow-check and axe-check the page as it is now (``mask``: what
        changes every run, such as a new secret, is covered in the pictures)."""
        page = self.page
        page.wait_for_load_state("load")
        self.titles[name] = page.title()
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            write_if_changed(SCREENSHOTS / f"{name}-{width}.png",
                             page.screenshot(full_page=True, animations="disabled",
                                             mask=[page.locator(s) for s in mask],
                                             mask_color="#d9d4cc"))
        page.set_viewport_size({"width": NARROWEST, "height": 900})
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > NARROWEST:
            self.problems.append(f"{name}: {scroll} px wide at {NARROWEST} px (sideways scroll)")
        page.set_viewport_size({"width": 1280, "height": 900})
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(axe_script()))
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            for violation in page.evaluate(AXE_RUN):
                if violation["impact"] in {"serious", "critical"}:
                    self.problems.append(
                        f"{name} ({scheme}): {violation['id']} [{violation['impact']}] "
                        f"{violation['help']} at {violation['nodes']}")
        page.emulate_media(color_scheme="light")


def write_if_changed(path: Path, png: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != png:
        path.write_bytes(png)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's clock stands still (its server threads read the same module)."""
    monkeypatch.setattr(clock, "now", lambda: FROZEN)


@pytest.fixture
def tour(frozen: None, new_page: Callable[..., Page]) -> Iterator[Tour]:
    # axe is injected as a script of its own, which the strict CSP would refuse: this
    # context sets it aside. The journeys (test_journeys.py) run under the real CSP.
    walk = Tour(new_page(bypass_csp=True))
    yield walk


def submit(page: Page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state("load")


def sign_in(page: Page, live: Live) -> None:
    page.goto(live.url("/login"))
    page.get_by_label("Email address").fill(READER)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    submit(page, "Sign in")


def test_every_page(live: Live, tour: Tour):
    page = tour.page

    # Signed out.
    page.goto(live.url("/login"))
    tour.stop("sign-in")
    page.get_by_label("Email address").fill(READER)
    page.get_by_label("Password", exact=True).fill("not the right one")
    submit(page, "Sign in")
    tour.stop("sign-in-failed")

    page.goto(live.url("/register"))
    tour.stop("register")
    page.get_by_label("Email address").fill(READER)
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Name (optional)").fill(READER_NAME)
    submit(page, "Create account")
    tour.stop("register-invalid")
    # The error is the field's: announced with it, and marked on it.
    password = page.get_by_label("Password", exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(re.compile("Use at least 8 characters"))
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    submit(page, "Create account")
    tour.stop("register-check-email")
    page.goto(live.link(READER, "/confirm/"))
    tour.stop("confirm")
    submit(page, "Confirm my address")
    tour.stop("confirmed")
    page.goto(live.url("/confirm/resend"))
    tour.stop("confirm-resend")
    page.get_by_label("Email address").fill(READER)
    submit(page, "Send a new link")
    tour.stop("confirm-resent")
    page.goto(live.url("/confirm/not-a-real-token"))
    tour.stop("confirm-link-problem")

    page.goto(live.url("/password/forgot"))
    tour.stop("forgot")
    page.get_by_label("Email address").fill(READER)
    submit(page, "Send reset link")
    tour.stop("forgot-sent")
    page.goto(live.link(READER, "/password/reset/"))
    tour.stop("reset")
    page.get_by_label("New password").fill(PASSWORD)
    submit(page, "Set new password")
    tour.stop("reset-done")
    page.goto(live.url("/password/reset/not-a-real-token"))
    tour.stop("reset-link-problem")

    page.goto(live.url("/login/mock"))
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(re.compile(re.escape(live.base) + ".*"))
    tour.stop("provider-cancelled")
    page.goto(live.url("/no-such-page"))
    tour.stop("not-found")
    page.goto(live.url("/widget/login-buttons"))
    tour.stop("widget")

    # Signed in.
    sign_in(page, live)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    tour.stop("account")
    for name in ("security", "sessions", "data"):
        page.goto(live.url(f"/account/{name}"))
        tour.stop(f"account-{name}")
    page.goto(live.url("/account/reauth?next=delete"))
    tour.stop("reauth")
    # Two-step sign-in: turn it on, then sign in again with it (a recovery code).
    page.goto(live.url("/account/two-factor"))
    tour.stop("two-factor-enrol", mask=(".qr svg", "li > code.secret"))
    secret = page.locator("code.secret").first.inner_text().strip()
    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(secret).at(FROZEN))
    submit(page, "Turn on")
    tour.stop("two-factor-codes", mask=(".codes",))
    recovery_code = page.locator(".codes li").first.inner_text().strip()
    page.context.clear_cookies()
    sign_in(page, live)
    tour.stop("sign-in-two-factor")
    page.get_by_label("Code", exact=True).fill(recovery_code)
    submit(page, "Continue")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    page.goto(live.url("/account"))
    page.get_by_label("New email address").fill("ana.new@example.com")
    submit(page, "Send the link")
    page.goto(live.link("ana.new@example.com", "/account/email/confirm/"))
    tour.stop("email-change-confirm")
    submit(page, "Use my new address")
    tour.stop("email-changed")
    page.goto(live.url("/logout"))
    tour.stop("sign-out")
    page.goto(live.url("/account/data"))
    page.get_by_label("Your email address").fill("ana.new@example.com")
    submit(page, "Delete my account")
    tour.stop("account-deleted")

    assert not tour.problems, "\n".join(tour.problems) + f"\ntitles: {tour.titles}"
    # Each page says in its title which it is (error states share their page's title).
    pages = {name: title for name, title in tour.titles.items()
             if not name.endswith(("-failed", "-invalid"))}
    same = {title for title in pages.values() if list(pages.values()).count(title) > 1}
    assert not same, {name: title for name, title in pages.items() if title in same}
    # The README's gallery shows every picture, and no picture that is gone.
    readme = (ROOT / "README.md").read_text()
    shown = set(re.findall(r"docs/screenshots/([\w-]+)-\d+\.png", readme))
    assert shown == set(tour.titles), (shown ^ set(tour.titles))
