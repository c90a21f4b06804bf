"""``auth-service clients …``: register content sites as OpenID Connect clients."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from auth_service.cli.output import json_document, json_line, table, when
from auth_service.oidc import clients as client_flow

CLIENT_ID = click.argument("client_id", metavar="ID")


@click.group("clients")
def clients() -> None:
    """Register, list and remove the sites that sign readers in through OpenID Connect.

    Example: auth-service clients add "Red Africa" --redirect-uri
    https://redafrica.example/?auth-service=callback
    """


@clients.command("add")
@click.argument("name")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True,
              help="Where the site receives the code; compared exactly. Repeat for several.")
@click.option("--post-logout-redirect-uri", "post_logout_uris", multiple=True,
              help="Where the site may send readers after /oauth/logout. Repeatable.")
@click.option("--backchannel-logout-uri", help="Where the site receives logout tokens.")
@click.option("--public", is_flag=True,
              help="A client that cannot keep a secret (browser or mobile app): PKCE, no secret.")
@click.option("--first-party", is_flag=True, help="One of your own sites: no consent page.")
@with_appcontext
def add(name: str, redirect_uris: tuple[str, ...], post_logout_uris: tuple[str, ...],
        backchannel_logout_uri: str | None, public: bool, first_party: bool) -> None:
    """Register a site; prints its client id and secret as JSON (the secret only this once).

    Example: auth-service clients add Blog --redirect-uri https://blog.example/callback
    --backchannel-logout-uri https://blog.example/backchannel-logout --first-party
    """
    registered = client_flow.add(name, redirect_uris, post_logout_redirect_uris=post_logout_uris,
                                 backchannel_logout_uri=backchannel_logout_uri, public=public,
                                 first_party=first_party)
    json_document({"client_id": registered.client.client_id, "client_secret": registered.secret})


@clients.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@with_appcontext
def list_(as_json: bool) -> None:
    """List the registered sites, oldest first.

    Example: auth-service clients list --json
    """
    found = client_flow.every_client()
    if as_json:
        for client in found:
            json_line(client_flow.describe(client))
        return
    table(["client_id", "name", "type", "consent", "back-channel", "created"],
          [(c.client_id, c.name, "public" if c.public else "confidential",
            "skipped" if c.first_party else "asked", "yes" if c.backchannel_logout_uri else "no",
            when(c.created_at)) for c in found])


@clients.command("show")
@CLIENT_ID
@with_appcontext
def show(client_id: str) -> None:
    """Show one site's registration as JSON (never its secret).

    Example: auth-service clients show 3kTn0mD0xGm2yD6TqTeSGA
    """
    json_document(client_flow.describe(client_flow.get(client_id)))


@clients.command("remove")
@CLIENT_ID
@with_appcontext
def remove(client_id: str) -> None:
    """Remove a site: its tokens stop working at once.

    Example: auth-service clients remove 3kTn0mD0xGm2yD6TqTeSGA
    """
    client_flow.remove(client_id)
    click.echo(f"Removed client {client_id}.")


@clients.command("rotate-secret")
@CLIENT_ID
@with_appcontext
def rotate_secret(client_id: str) -> None:
    """Give a confidential site a new secret (printed once as JSON); the old one stops working.

    Example: auth-service clients rotate-secret 3kTn0mD0xGm2yD6TqTeSGA
    """
    registered = client_flow.rotate_secret(client_id)
    json_document({"client_id": registered.client.client_id, "client_secret": registered.secret})
