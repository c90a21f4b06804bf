"""How commands print: aligned tables for people, JSON for programs, one line for errors.

Whatever the data (names and subjects come from readers and from providers), a
control character never reaches the admin's terminal as itself: ``\x1b[2J`` would
clear the screen, ``\x1b]0;…\x07`` set the window title. Tables, ``users show``
and JSON print such characters as visible escapes.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

# C0 and C1 controls and DEL, and the format characters that reorder text on screen.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What json.dumps(ensure_ascii=False) leaves raw: DEL, C1, and the bidi controls.
_UNPRINTABLE_IN_JSON = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(value: Any) -> str:
    """``str(value)`` with every control character written as an escape (``\\x1b``)."""
    return _UNPRINTABLE.sub(lambda m: _escape(m.group()), str(value))


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_safe(text: str) -> str:
    return _UNPRINTABLE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def when(value: datetime | None) -> str:
    """A timestamp for a table: minutes are enough to read, UTC always."""
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def details(values: dict[str, Any] | None) -> str:
    """An audit event's details as ``key=value`` pairs, for a table cell."""
    return " ".join(f"{printable(key)}={printable(value)}" for key, value in (values or {}).items())


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows under headers, each column as wide as its widest cell."""
    cells = [[str(c) for c in headers]] + [["-" if c is None else printable(c) for c in row]
                                           for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths,
                                                                       strict=True)).rstrip())


def json_line(value: Any) -> None:
    """One JSON document on one line (``--json`` output is JSON lines)."""
    click.echo(_json_safe(json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)))


def json_document(value: Any) -> None:
    click.echo(_json_safe(json.dumps(value, default=str, ensure_ascii=False, indent=2,
                                     sort_keys=True)))


def read_password(from_stdin: bool) -> str:
    """The new password: the first line of stdin, or typed twice at a hidden prompt.

    Never a command-line argument: those end up in shell history and `ps`.
    """
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise click.ClickException("no password on standard input")
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)
