"""The service's languages, and which one is being rendered now (Flask-Babel's locale).

How a page's language is chosen is views/languages.py's business; an email is
in its recipient's saved language (mail/outbox.py), which an account gets when
it is made: the language of the page it was made from (flows/audit.Client).

Catalogues live in ``auth_service/translations/<code>/LC_MESSAGES/`` (``make
translations`` extracts, updates and compiles them); docs/languages.md says how
a site adds one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from flask import current_app
from flask_babel import get_locale

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
# The languages written right to left (their <html dir>).
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur"})


@dataclass(frozen=True)
class Language:
    """One of the service's languages, as the language picker and ``<html>`` need it."""

    code: str
    name: str  # in the language itself: "Français"
    direction: str  # "ltr" or "rtl"


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue (``make translations`` finds it) without
    translating it: for tables of messages translated where they are used."""
    return message


def language(code: str) -> Language:
    name = Locale.parse(code).get_display_name(code) or code
    return Language(code=code, name=name[:1].upper() + name[1:],
                    direction="rtl" if code in RIGHT_TO_LEFT else "ltr")


def offered() -> list[Language]:
    """The configured languages, in configuration order."""
    return [language(code) for code in current_app.config["LANGUAGES"]]


def supported(code: object) -> str | None:
    """``code`` if it is one of the configured languages (``pt-BR`` counts as ``pt``)."""
    if not isinstance(code, str):
        return None
    base = code.strip().lower().replace("_", "-").split("-")[0][:8]
    return base if base in current_app.config["LANGUAGES"] else None


def current() -> str:
    """The language of what is being rendered now (a page, or an email being queued)."""
    return str(get_locale() or current_app.config["DEFAULT_LANGUAGE"])
