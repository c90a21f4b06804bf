"""What a reader does in the browser, written once: Tab through a page, sign in, open a link."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

# What has keyboard focus, and whether a reader can see it (an outline or a box shadow).
FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== "none" && style.boxShadow !== "";
  return {tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute("name") || "",
          text: (el.innerText || el.value || "").trim().slice(0, 60),
          visible: outline || shadow};
}"""


@dataclass(frozen=True)
class Focus:
    tag: str
    id: str
    name: str
    text: str
    visible: bool

    def matches(self, target: str) -> bool:
        """``target``: "#id", "name=…" or the visible text of a link or button."""
        if target.startswith("#"):
            return self.id == target[1:]
        if target.startswith("name="):
            return self.name == target[5:]
        return self.text == target


def focused(page: Page) -> Focus:
    return Focus(**page.evaluate(FOCUSED))


def tab_to(page: Page, target: str, *, limit: int = 25) -> list[Focus]:
    """Press Tab until ``target`` has focus; every stop on the way must show its focus.

    Returns the stops, in order (the last is ``target``).
    """
    stops: list[Focus] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = focused(page)
        stops.append(stop)
        assert stop.tag != "body", f"focus left the page before {target}: {stops}"
        assert stop.visible, f"no visible focus on {stop}"
        if stop.matches(target):
            return stops
    raise AssertionError(f"{target} not reached with Tab: {stops}")


def type_into(page: Page, target: str, text: str) -> None:
    """Tab to a field and type, as a reader on the keyboard does."""
    tab_to(page, target)
    page.keyboard.type(text)


def sign_in(page: Page, base: str, email: str, password: str = PASSWORD,
            return_to: str | None = None) -> None:
    """Sign in through the form (with the mouse: the keyboard has its own test)."""
    url = base + "/login" + (f"?return_to={return_to}" if return_to else "")
    page.goto(url)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Sign in")


def heading(page: Page) -> str:
    """The page's <h1>, as a reader sees it."""
    return page.get_by_role("heading", level=1).inner_text().strip()


def press_enter(page: Page) -> None:
    """Press Enter on what has focus (a link, a button, a field) and wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press("Enter")
