"""Every catalogue is complete, current and compiled: what `make translations` promises.

The messages are extracted here afresh from the code and the templates (with
babel.cfg, as `make translations` does), so a message added to a template or a
flow without a translation fails this test in every language that lacks it, and
a translation left behind by a message that no longer exists fails it too.
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from auth_service.config import AVAILABLE_LANGUAGES
from auth_service.i18n import TRANSLATIONS

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = [code for code in AVAILABLE_LANGUAGES if code != "en"]  # English is the source
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_ngettext": (1, 2)}  # as the Makefile's -k
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TAG = re.compile(r"</?[a-z]+")


def msgid_of(message) -> str | tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, (list, tuple)) else message.id


@pytest.fixture(scope="module")
def source_ids() -> set:
    """Every message the code and the templates ask to be translated, right now."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map,
                                                 keywords=KEYWORDS):
        found.add(tuple(message) if isinstance(message, (list, tuple)) else message)
    return {message for message in found if message}


def catalogue(code: str):
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=code)


def test_messages_are_extracted_at_all(source_ids):
    # If extraction found nothing, every check below would pass for nothing.
    assert len(source_ids) > 150
    assert "That email and password don't match an account. Check them and try again." in \
        source_ids


def test_the_template_file_is_current(source_ids):
    with open(TRANSLATIONS / "messages.pot", "rb") as pot:
        template = {msgid_of(m) for m in read_po(pot) if m.id}
    assert source_ids - template == set(), "run `make translations`"
    assert template - source_ids == set(), "run `make translations`"


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_message_is_translated(code, source_ids):
    messages = {msgid_of(m): m for m in catalogue(code) if m.id}
    missing = sorted(map(str, source_ids - messages.keys()))
    untranslated = sorted(str(key) for key, m in messages.items()
                          if not (all(m.string) if isinstance(m.string, tuple) else m.string))
    fuzzy = sorted(str(key) for key, m in messages.items() if m.fuzzy)
    assert missing == [], f"{code}: no entry for these"
    assert untranslated == [], f"{code}: empty translations"
    assert fuzzy == [], f"{code}: fuzzy translations (check them, then drop the flag)"
    # A catalogue whose header is still marked fuzzy (as `pybabel init` leaves it) is not
    # compiled at all: the language would silently fall back to English.
    assert not catalogue(code).fuzzy, f"{code}: the header is marked fuzzy"


@pytest.mark.parametrize("code", LANGUAGES)
def test_no_translation_is_left_over(code, source_ids):
    cat = catalogue(code)
    extra = sorted(str(msgid_of(m)) for m in cat if m.id and msgid_of(m) not in source_ids)
    assert extra == [], f"{code}: translations of messages nothing uses any more"
    assert list(cat.obsolete) == [], f"{code}: obsolete (#~) entries"


@pytest.mark.parametrize("code", LANGUAGES)
def test_translations_keep_placeholders_and_markup(code):
    for message in catalogue(code):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        strings = message.string if isinstance(message.string, (list, tuple)) else (
            message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, (code, message.id, string)
            assert sorted(TAG.findall(string)) == sorted(TAG.findall(ids[0])), (
                code, message.id, string)


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_compiled_catalogue_matches_its_source(code):
    compiled = BytesIO()
    write_mo(compiled, catalogue(code))
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "messages.mo", "rb") as mo:
        shipped = read_mo(mo)
    compiled.seek(0)
    fresh = read_mo(compiled)
    assert {msgid_of(m): m.string for m in shipped if m.id} == {
        msgid_of(m): m.string for m in fresh if m.id}, "run `make translations`"
