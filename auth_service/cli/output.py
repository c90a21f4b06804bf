"""How commands print: aligned tables for people, JSON for programs, one line for errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click


def when(value: datetime | None) -> str:
    """A timestamp for a table: minutes are enough to read, UTC always."""
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def details(values: dict[str, Any] | None) -> str:
    """An audit event's details as ``key=value`` pairs, for a table cell."""
    return " ".join(f"{key}={value}" for key, value in (values or {}).items())


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows under headers, each column as wide as its widest cell."""
    cells = [[str(c) for c in headers]] + [["-" if c is None else str(c) for c in row]
                                           for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths,
                                                                       strict=True)).rstrip())


def json_line(value: Any) -> None:
    """One JSON document on one line (``--json`` output is JSON lines)."""
    click.echo(json.dumps(value, default=str, ensure_ascii=False, sort_keys=True))


def json_document(value: Any) -> None:
    click.echo(json.dumps(value, default=str, ensure_ascii=False, indent=2, sort_keys=True))


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
