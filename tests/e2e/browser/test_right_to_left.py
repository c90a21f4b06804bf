"""Arabic in the browser: the page runs right to left and its layout is mirrored.

The style sheet uses logical properties (``border-inline-start``, ``text-align:
start``…), so nothing in it names a side; this checks what the reader sees: the
heading starts at the right, an error's coloured bar is on its right edge, the
field's label sits at the field's right, nothing scrolls sideways on a phone.
The pages are photographed too (docs/screenshots/*-ar-*.png).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page

from tests.e2e.browser.conftest import Live

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def box(page: Page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def test_sign_in_page_in_arabic_is_mirrored(live: Live, new_page: Callable[..., Page]):
    page = new_page(width=390, height=844)
    page.goto(f"{live.base}/login?lang=ar")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "ar"
    # A wrong password: the error box, and the form's fields.
    page.fill("input[name=email]", "nobody@example.com")
    page.fill("input[name=password]", "not the password")
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_selector(".alert")

    card = box(page, "main")
    heading = page.evaluate("""() => {  // the heading's words, not its full-width block
        const range = document.createRange();
        range.selectNodeContents(document.querySelector("h1"));
        const r = range.getBoundingClientRect();
        return {x: r.x, width: r.width};
    }""")
    # The heading hugs the right edge of the card, not the left.
    assert (card["x"] + card["width"]) - (heading["x"] + heading["width"]) < 40
    assert heading["x"] - card["x"] > 40
    bar = page.eval_on_selector(".alert", """el => {
        const style = getComputedStyle(el);
        return [style.borderRightWidth, style.borderLeftWidth];
    }""")
    assert bar == ["4px", "0px"]
    label, field = box(page, "label[for=email]"), box(page, "input[name=email]")
    assert abs((label["x"] + label["width"]) - (field["x"] + field["width"])) < 4 or \
        label["x"] + label["width"] <= field["x"] + field["width"] + 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "login-ar-390.png"), full_page=True)


def test_registration_in_arabic_keeps_the_menu_and_fields_in_order(
        live: Live, new_page: Callable[..., Page]):
    page = new_page(width=1280, height=900)
    page.goto(f"{live.base}/register?lang=ar")
    email, password = box(page, "input[name=email]"), box(page, "input[name=password]")
    assert password["y"] > email["y"]  # top to bottom is unchanged
    # The language menu's items run right to left: the first listed is rightmost.
    items = page.locator("nav.languages li")
    first, second = items.nth(0).bounding_box(), items.nth(1).bounding_box()
    if first["y"] == second["y"]:
        assert first["x"] > second["x"]
    page.screenshot(path=str(SCREENSHOTS / "register-ar-1280.png"), full_page=True)
