"""``auth-service keys …``: the provider's signing keys."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from auth_service.cli.output import json_line, table, when
from auth_service.oidc import keys as key_store


@click.group("keys")
def keys() -> None:
    """List and rotate the keys that sign ID tokens, session tokens and logout tokens.

    Example: auth-service keys rotate
    """


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@with_appcontext
def list_(as_json: bool) -> None:
    """List the signing keys, newest first: current (signs), retiring (still verifies), retired.

    Example: auth-service keys list
    """
    found = key_store.every_key()
    if as_json:
        for row in found:
            json_line({"kid": row.kid, "alg": row.alg, "status": key_store.status(row),
                       "created_at": row.created_at.isoformat(),
                       "retired_at": row.retired_at.isoformat() if row.retired_at else None})
        return
    if not found:
        click.echo("No signing key yet: one is made on first use (or run `keys rotate`).")
        return
    table(["kid", "alg", "status", "created", "retired"],
          [(row.kid, row.alg, key_store.status(row), when(row.created_at), when(row.retired_at))
           for row in found])


@keys.command("rotate")
@click.option("--alg", type=click.Choice(key_store.ALGORITHMS), default=key_store.DEFAULT_ALGORITHM,
              show_default=True, help="Algorithm of the new key.")
@with_appcontext
def rotate(alg: str) -> None:
    """Make a new signing key; the old one keeps verifying until its tokens have expired.

    Example: auth-service keys rotate --alg ES256
    """
    new = key_store.rotate(alg)
    minutes = int(key_store.retention().total_seconds() // 60)
    click.echo(f"New {new.alg} key {new.kid} signs from now on; the previous key stays in "
               f"the JWKS for {minutes} more minutes.")
