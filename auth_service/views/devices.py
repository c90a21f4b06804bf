"""A short, human description of a user agent for the sessions list ("Firefox on Windows").

Only for display: nothing decides anything from it, so a few patterns are enough.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chromium/", "Chromium"), ("Chrome/", "Chrome"), ("Safari/", "Safari"),
             ("curl/", "curl"), ("python", _l("Python client")))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"),
            ("Linux", "Linux"))


def describe(user_agent: str | None) -> str:
    """E.g. "Firefox on Windows"; "Unknown device" when there is nothing to go on."""
    agent = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in agent), None)
    if browser and system:
        return str(_l("%(browser)s on %(system)s", browser=browser, system=system))
    return str(browser or system or _l("Unknown device"))
