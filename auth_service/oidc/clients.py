"""Registering content sites as OpenID Connect clients: the logic behind ``auth-service clients``.

A secret is shown once, when it is made, and only its SHA-256 is kept. URIs
are compared exactly at sign-in, so they are checked here, once, for what can
never work or would be unsafe: not absolute, a fragment, plain http to a host
other than this machine (outside development).
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from auth_service import clock
from auth_service.errors import FlowError, InvalidInput
from auth_service.extensions import db
from auth_service.flows.audit import CLI, record
from auth_service.models import OAuthClient
from auth_service.models.oidc import digest

MAX_URI_LENGTH = 1000


@dataclass(frozen=True)
class Registered:
    """A client and its secret in clear (None for a public client): shown once, never stored."""

    client: OAuthClient
    secret: str | None


class UnknownClient(FlowError):
    def __init__(self, client_id: str) -> None:
        super().__init__("clients.unknown", f"no client with the id {client_id}", status=404)


def check_uri(uri: str, what: str) -> str:
    """``uri`` if it can be registered; raises InvalidInput naming ``what`` otherwise."""
    parts = urlsplit(uri)
    if (len(uri) > MAX_URI_LENGTH or parts.scheme not in {"http", "https"}
            or not parts.hostname or parts.fragment or "#" in uri
            or parts.username or parts.password or any(c.isspace() for c in uri)):
        raise InvalidInput("clients.bad_uri",
                           f"{what} must be an absolute http(s) URL without a fragment: {uri}")
    development = current_app.config["ENV"] == "development"
    if parts.scheme == "http" and not development and not _loopback(parts.hostname):
        raise InvalidInput("clients.insecure_uri",
                           f"{what} must use https (plain http only for 127.0.0.1): {uri}")
    return uri


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add(name: str, redirect_uris: Sequence[str], *,
        post_logout_redirect_uris: Sequence[str] = (), backchannel_logout_uri: str | None = None,
        public: bool = False, first_party: bool = False) -> Registered:
    """Register a client; commits. Raises InvalidInput for a bad name or URI."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("clients.bad_name", "the name must be 1 to 100 characters")
    if not redirect_uris:
        raise InvalidInput("clients.no_redirect_uri", "at least one --redirect-uri is needed")
    secret = None if public else secrets.token_urlsafe(32)
    client = OAuthClient(
        # Hex: never starts with "-", which a shell command would read as an option.
        client_id=secrets.token_hex(16),
        name=name,
        secret_hash=digest(secret) if secret else None,
        redirect_uris=list(dict.fromkeys(check_uri(u, "--redirect-uri") for u in redirect_uris)),
        post_logout_redirect_uris=list(dict.fromkeys(
            check_uri(u, "--post-logout-redirect-uri") for u in post_logout_redirect_uris)),
        backchannel_logout_uri=(check_uri(backchannel_logout_uri, "--backchannel-logout-uri")
                                if backchannel_logout_uri else None),
        public=public,
        first_party=first_party,
        created_at=clock.now(),
    )
    db.session.add(client)
    db.session.flush()
    record("clients.added", client=CLI, client_id=client.client_id, name=name, public=public,
           first_party=first_party)
    db.session.commit()
    return Registered(client=client, secret=secret)


def find(client_id: str) -> OAuthClient | None:
    """The client with this public id, or None."""
    if not client_id or len(client_id) > 64:
        return None
    return db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))


def get(client_id: str) -> OAuthClient:
    """The client with this id; raises UnknownClient."""
    client = find(client_id)
    if client is None:
        raise UnknownClient(client_id)
    return client


def every_client() -> list[OAuthClient]:
    return list(db.session.scalars(select(OAuthClient).order_by(OAuthClient.id)))


def remove(client_id: str) -> None:
    """Remove a client with its codes, tokens, consents and pending logouts; commits."""
    client = get(client_id)
    db.session.delete(client)
    record("clients.removed", client=CLI, client_id=client_id)
    db.session.commit()


def rotate_secret(client_id: str) -> Registered:
    """A new secret for a confidential client (the old one stops working); commits.

    Raises UnknownClient, or FlowError ``clients.public`` (a public client has no secret).
    """
    client = get(client_id)
    if client.public:
        raise FlowError("clients.public", "a public client has no secret to rotate")
    secret = secrets.token_urlsafe(32)
    client.secret_hash = digest(secret)
    client.secret_rotated_at = clock.now()
    record("clients.secret_rotated", client=CLI, client_id=client_id)
    db.session.commit()
    return Registered(client=client, secret=secret)


def describe(client: OAuthClient) -> dict[str, Any]:
    """What ``clients show`` and ``clients list --json`` print (never the secret's hash)."""
    return {
        "client_id": client.client_id,
        "name": client.name,
        "public": client.public,
        "first_party": client.first_party,
        "redirect_uris": list(client.redirect_uris or ()),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris or ()),
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "token_endpoint_auth_method": "none" if client.public else "client_secret_basic",
        "created_at": client.created_at.isoformat(),
        "secret_rotated_at": (client.secret_rotated_at.isoformat()
                              if client.secret_rotated_at else None),
    }


def redirect_origins() -> list[str]:
    """Every origin a registered client's redirect or post-logout URI is on.

    For a page's ``form-action``: a sign-in, a consent or a sign-out posted on our
    page ends in a redirect to the client, and Chromium checks every redirect after
    a form against ``form-action``. An unreadable database names none (the page
    that says so still renders).
    """
    try:
        rows = db.session.execute(select(OAuthClient.redirect_uris,
                                         OAuthClient.post_logout_redirect_uris)).all()
    except SQLAlchemyError:
        db.session.rollback()
        return []
    origins: dict[str, None] = {}
    for redirects, logouts in rows:
        for uri in [*(redirects or ()), *(logouts or ())]:
            parts = urlsplit(uri)
            if parts.scheme in {"http", "https"} and parts.netloc:
                origins[f"{parts.scheme}://{parts.netloc}"] = None
    return list(origins)
