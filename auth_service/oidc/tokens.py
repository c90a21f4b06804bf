"""Issued tokens: how they are stored, found and revoked.

Authlib generates the token strings and decides when to issue them; this
module keeps only their SHA-256, ties each token to the service session it was
issued in (the ``sid``) and to its family (one code and every refresh from it),
and revokes them when a code is replayed, a spent refresh token comes back, a
reader withdraws a site's access, or their sessions end.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749 import scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from flask import current_app
from sqlalchemy import or_, select, update

from auth_service import clock
from auth_service.extensions import db
from auth_service.models import AuthorizationCode, OAuthToken
from auth_service.models.oidc import digest

OFFLINE = "offline_access"


class TokenGenerator(BearerTokenGenerator):
    """Authlib's bearer tokens, with our lifetimes and a refresh token only for offline_access."""

    def __init__(self) -> None:
        super().__init__(_random_token, _random_token, _expires_in)

    def generate(self, grant_type: str, client: Any, user: Any = None, scope: str | None = None,
                 expires_in: int | None = None,
                 include_refresh_token: bool = True) -> dict[str, Any]:
        allowed = self.get_allowed_scope(client, scope)
        offline = OFFLINE in (scope_to_list(allowed) or ())
        return super().generate(grant_type, client, user=user, scope=scope, expires_in=expires_in,
                                include_refresh_token=include_refresh_token and offline)


def _random_token(**_: Any) -> str:
    return generate_token(48)


def _expires_in(client: Any, grant_type: str) -> int:
    return current_app.config["OIDC_ACCESS_TOKEN_TTL"]


def save(token: dict[str, Any], request: Any) -> OAuthToken:
    """Authlib's ``save_token``: store what the code or refresh grant just issued (no commit).

    ``request.authorization_code`` (code grant) or ``request.refresh_token``
    (refresh grant) is the row it was issued from: the new token inherits its
    session, sign-in time and methods, and a refresh keeps its family.
    """
    code: AuthorizationCode | None = request.authorization_code
    previous: OAuthToken | None = request.refresh_token if code is None else None
    source: AuthorizationCode | OAuthToken = code or previous  # type: ignore[assignment]
    now = clock.now()
    refresh = token.get("refresh_token")
    row = OAuthToken(
        client_pk=request.client.id,
        user_id=request.user.id,
        session_id=source.session_id,
        code_id=code.id if code is not None else previous.code_id,  # type: ignore[union-attr]
        family=previous.family if previous is not None else secrets.token_hex(16),
        scope=token.get("scope", ""),
        access_token_hash=digest(token["access_token"]),
        refresh_token_hash=digest(refresh) if refresh else None,
        issued_at=now,
        expires_in=int(token["expires_in"]),
        refresh_expires_at=(now + timedelta(seconds=current_app.config["OIDC_REFRESH_TOKEN_TTL"])
                            if refresh else None),
        auth_time=source.auth_time,
        amr=list(source.amr or ()),
    )
    db.session.add(row)
    return row


def by_access_token(value: str) -> OAuthToken | None:
    return db.session.scalar(select(OAuthToken)
                             .where(OAuthToken.access_token_hash == digest(value)))


def by_any_token(value: str) -> OAuthToken | None:
    """The row an access or refresh token belongs to (for RFC 7009 revocation)."""
    hashed = digest(value)
    return db.session.scalar(select(OAuthToken).where(
        or_(OAuthToken.access_token_hash == hashed, OAuthToken.refresh_token_hash == hashed)))


def is_refresh_token(row: OAuthToken, value: str) -> bool:
    return row.refresh_token_hash == digest(value)


def claim_refresh_token(value: str, client_pk: int) -> OAuthToken | None:
    """The unspent, live refresh token ``value`` of this client, now marked spent; else None.

    A refresh token that was already spent (or revoked) is a sign that it was
    copied: its whole family is revoked (committed at once, whatever the request
    does next), and the legitimate holder has to sign in again.
    """
    row = db.session.scalar(select(OAuthToken).where(OAuthToken.refresh_token_hash == digest(value),
                                                     OAuthToken.client_pk == client_pk))
    if row is None:
        return None
    now = clock.now()
    if row.refresh_used_at is not None or row.revoked_at is not None:
        if row.refresh_used_at is not None:
            revoke_family(row.family)
            db.session.commit()
        return None
    if row.refresh_expires_at is None or row.refresh_expires_at <= now:
        return None
    claimed = db.session.execute(update(OAuthToken).where(
        OAuthToken.id == row.id, OAuthToken.refresh_used_at.is_(None)).values(refresh_used_at=now))
    if claimed.rowcount != 1:  # spent by a concurrent request: a copy is in use
        revoke_family(row.family)
        db.session.commit()
        return None
    return row


def claim_code(value: str, client_pk: int) -> AuthorizationCode | None:
    """The live code ``value`` of this client, now marked used; else None.

    A code used before is a replay: every token its first use issued is revoked
    (committed at once), as RFC 6749 §4.1.2 asks.
    """
    row = db.session.scalar(select(AuthorizationCode).where(
        AuthorizationCode.code_hash == digest(value), AuthorizationCode.client_pk == client_pk))
    if row is None:
        return None
    now = clock.now()
    claimed = db.session.execute(update(AuthorizationCode).where(
        AuthorizationCode.id == row.id, AuthorizationCode.used_at.is_(None)).values(used_at=now))
    if claimed.rowcount != 1:
        revoke_from_code(row.id)
        db.session.commit()
        return None
    if row.expires_at <= now:
        return None
    return row


def revoke_family(family: str) -> int:
    """Revoke every token of a family (no commit)."""
    return _revoke(OAuthToken.family == family)


def revoke_from_code(code_id: int) -> int:
    """Revoke every token issued, directly or by refresh, from one code (no commit)."""
    return _revoke(OAuthToken.code_id == code_id)


def revoke_row(row: OAuthToken) -> int:
    return _revoke(OAuthToken.id == row.id)


def revoke_for_client(user_id: int, client_pk: int) -> int:
    """Revoke what a client holds for a reader: their access to it is withdrawn (no commit)."""
    return _revoke(OAuthToken.user_id == user_id, OAuthToken.client_pk == client_pk)


def revoke_for_sessions(user_id: int, session_ids: Sequence[str], *,
                        offline_too: bool, keep: str | None = None) -> int:
    """Revoke the tokens of sessions that ended (no commit).

    Tokens for offline_access are meant to outlive the sign-in, so they stay
    unless ``offline_too`` (the reader signed out everywhere, changed or reset
    their password, or was disabled): then every token of the account goes,
    except those of the session ``keep``.
    """
    if offline_too:
        condition = [OAuthToken.user_id == user_id]
        if keep is not None:
            condition.append(or_(OAuthToken.session_id.is_(None), OAuthToken.session_id != keep))
        return _revoke(*condition)
    if not session_ids:
        return 0
    return _revoke(OAuthToken.session_id.in_(list(session_ids)),
                   OAuthToken.refresh_token_hash.is_(None))


def _revoke(*condition: Any) -> int:
    result = db.session.execute(update(OAuthToken)
                                .where(*condition, OAuthToken.revoked_at.is_(None))
                                .values(revoked_at=clock.now()))
    return result.rowcount
