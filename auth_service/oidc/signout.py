"""When service sessions end: revoke what clients hold for them and queue back-channel logouts.

Called by the sessions flow for every way a session ends (sign-out, revoke,
sign out everywhere, password change or reset, disable, deletion), in the same
transaction as the change, so a logout is queued exactly when the session
really ended. Nothing is sent here: the worker sends the queued rows
(:mod:`auth_service.oidc.backchannel`), so a sign-out never waits on a client.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from auth_service.extensions import db
from auth_service.models import LogoutDelivery, OAuthClient, OAuthToken
from auth_service.oidc import tokens


def sessions_ended(user_id: int, session_ids: Sequence[str], *, everywhere: bool = False,
                   keep: str | None = None) -> int:
    """Revoke the sessions' tokens and queue a logout for each client that had one (no commit).

    ``everywhere`` (with ``keep``, the session that stays) also revokes the
    account's offline tokens (see tokens.revoke_for_sessions). Returns how many
    logouts were queued.
    """
    ids = [session_id for session_id in dict.fromkeys(session_ids) if session_id != keep]
    tokens.revoke_for_sessions(user_id, ids, offline_too=everywhere, keep=keep)
    if not ids:
        return 0
    # Every client that received tokens in one of these sessions and asked to be told.
    pairs = db.session.execute(
        select(OAuthToken.session_id, OAuthClient.id).distinct()
        .join(OAuthClient, OAuthClient.id == OAuthToken.client_pk)
        .where(OAuthToken.session_id.in_(ids), OAuthClient.backchannel_logout_uri.is_not(None))
    ).all()
    for session_id, client_pk in pairs:
        db.session.add(LogoutDelivery(client_pk=client_pk, session_id=session_id,
                                      subject=str(user_id)))
    return len(pairs)


def client_withdrawn(user_id: int, client_pk: int) -> int:
    """Queue a logout to one client for every session it holds tokens for (no commit).

    A reader who withdraws a site's access expects to be signed out of it too.
    """
    client = db.session.get(OAuthClient, client_pk)
    if client is None or not client.backchannel_logout_uri:
        return 0
    held = db.session.scalars(
        select(OAuthToken.session_id).distinct()
        .where(OAuthToken.user_id == user_id, OAuthToken.client_pk == client_pk,
               OAuthToken.session_id.is_not(None), OAuthToken.revoked_at.is_(None))
    ).all()
    for session_id in held:
        db.session.add(LogoutDelivery(client_pk=client_pk, session_id=session_id,
                                      subject=str(user_id)))
    return len(held)
