"""README's configuration table, written from the settings themselves.

``make docs`` (``python -m auth_service.settings_doc README.md``) rewrites the
table between its two markers; tests/test_config.py fails when the README and
config.py's SETTINGS (and the provider variables) say different things.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from auth_service.config import PREFIX, SETTINGS, Setting
from auth_service.providers.settings import VARIABLES

START = "<!-- configuration table: written by `make docs` from auth_service/config.py -->"
END = "<!-- end of the configuration table -->"
_DURATIONS = ("_TIMEOUT", "_AGE", "_TTL")


def _default(setting: Setting) -> str:
    if setting.default_doc is not None:
        return setting.default_doc
    value = setting.default
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int) and setting.name.endswith(_DURATIONS) and value >= 3600:
        span = timedelta(seconds=value)
        hours = value // 3600
        words = f"{span.days} days" if span.days >= 2 else f"{hours} hour{'s' * (hours != 1)}"
        return f"`{value}` ({words})"
    if isinstance(value, tuple):
        return ", ".join(f"`{item}`" for item in value) or "none"
    return "unset" if value is None else f"`{value}`"


def table() -> str:
    """The Markdown table: one row per setting, then the provider variables."""
    rows = ["| variable | meaning | default |", "|---|---|---|"]
    rows += [f"| `{PREFIX}{s.name}` | {s.doc} | {_default(s)} |" for s in SETTINGS]
    rows += [f"| {names} | {doc} | {default} |" for names, doc, default in VARIABLES]
    return "\n".join(rows)


def rewrite(text: str) -> str:
    """``text`` (the README) with the table between the markers replaced by :func:`table`."""
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError("the README has no configuration table markers")
    return f"{head}{START}\n{table()}\n{END}{tail}"


def main(argv: list[str]) -> None:
    path = Path(argv[1] if len(argv) > 1 else "README.md")
    path.write_text(rewrite(path.read_text()))


if __name__ == "__main__":
    main(sys.argv)
