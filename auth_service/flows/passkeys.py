"""Passkeys (WebAuthn, through py_webauthn): register them, sign in with one alone, or use one
as the second factor.

Each ceremony has its challenge on the server (``webauthn_challenges``), found
by a key the view keeps in the browser's signed cookie, so an answer counts
only in the browser that asked, and only once: taking the challenge deletes it.
The origin and the RP ID are AUTH_BASE_URL's, never the request's Host. A
passkey alone signs in only with user verification (the authenticator's PIN
or biometrics), which makes it two factors in one ("hwk"); as a second factor
after a password, presence is enough. A sign count that goes backwards (a
cloned authenticator) is refused by py_webauthn.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import webauthn
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from auth_service import clock
from auth_service.config import origin_of
from auth_service.errors import FlowError, InvalidInput
from auth_service.extensions import db
from auth_service.flows import pending_sign_in, sessions, two_factor
from auth_service.flows.audit import Client, record
from auth_service.flows.pending_sign_in import Completed, SignIn
from auth_service.models import User, WebAuthnChallenge, WebAuthnCredential
from auth_service.oidc import claims

CHALLENGE_TTL = timedelta(minutes=5)
MAX_NAME_LENGTH = 64
MAX_ANSWER_LENGTH = 16 * 1024
REGISTER, LOGIN, SECOND = "register", "login", "second"
TRANSPORTS = {t.value for t in AuthenticatorTransport}

FAILED = _l("That passkey could not be checked. Try again, or sign in another way.")


@dataclass(frozen=True)
class Ceremony:
    """Options for the browser (JSON, as navigator.credentials takes them once decoded)
    and the key of their challenge, for the browser's cookie."""

    key: str
    options: str


def relying_party() -> tuple[str, str]:
    """(RP ID, origin) from AUTH_BASE_URL: the host alone, and scheme://host[:port]."""
    base = current_app.config["BASE_URL"]
    return urlsplit(base).hostname or "", origin_of(base)


def of(user: User) -> list[WebAuthnCredential]:
    """The account's passkeys, oldest first."""
    return list(db.session.scalars(select(WebAuthnCredential)
                                   .where(WebAuthnCredential.user_id == user.id)
                                   .order_by(WebAuthnCredential.id)))


def registration_options(user: User) -> Ceremony:
    """Start registering a passkey for ``user``; commits the challenge.

    A discoverable credential (a passkey, so it can sign in without an address)
    with user verification; attestation "none": any authenticator will do.
    """
    rp_id, _ = relying_party()
    options = webauthn.generate_registration_options(
        rp_id=rp_id, rp_name=current_app.config["SITE_NAME"], user_name=user.email,
        user_id=_user_handle(user), user_display_name=user.name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[_descriptor(c) for c in of(user)])
    return _ceremony(REGISTER, options.challenge, options, user)


def register(user: User, key: str | None, answer: Any, name: str, *,
             client: Client | None = None) -> WebAuthnCredential:
    """Keep the passkey the browser made for the challenge ``key``; commits.

    Raises InvalidInput ``passkeys.name`` or FlowError ``passkeys.invalid`` (the
    challenge is spent, expired or someone else's; the answer does not verify).
    """
    name = " ".join((name or "").split())[:MAX_NAME_LENGTH] or "Passkey"
    if any(ord(ch) < 32 for ch in name):
        raise InvalidInput("passkeys.name", _l("That name has characters that are not allowed."),
                           field="name")
    challenge = _take(key, REGISTER, user_id=user.id)
    rp_id, origin = relying_party()
    try:
        verified = webauthn.verify_registration_response(
            credential=_answer(answer), expected_challenge=challenge, expected_rp_id=rp_id,
            expected_origin=origin, require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise _invalid(exc) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(select(WebAuthnCredential.id).where(
            WebAuthnCredential.credential_id == credential_id)) is not None:
        raise FlowError("passkeys.known", _l("That passkey is already registered."), status=409)
    transports = answer.get("response", {}).get("transports") if isinstance(answer, dict) else []
    credential = WebAuthnCredential(
        user_id=user.id, credential_id=credential_id,
        public_key=verified.credential_public_key, sign_count=verified.sign_count, name=name,
        transports=[t for t in transports or [] if t in TRANSPORTS][:8])
    db.session.add(credential)
    record("passkey.added", user=user, client=client, name=name)
    _notify(user, "added", name=name)
    db.session.commit()
    return credential


def login_options() -> Ceremony:
    """Start a sign-in with a passkey alone (no address asked: the passkey names the
    account); commits the challenge. Also what the browser's autofill offers."""
    rp_id, _ = relying_party()
    options = webauthn.generate_authentication_options(
        rp_id=rp_id, user_verification=UserVerificationRequirement.REQUIRED)
    return _ceremony(LOGIN, options.challenge, options, None)


def sign_in(key: str | None, answer: Any, *, return_to: str | None = None,
            client: Client | None = None) -> SignIn:
    """Sign in with a passkey alone; commits. Returns a complete SignIn (amr ["hwk"]).

    Raises FlowError ``passkeys.invalid`` (audited as a failed sign-in: unknown
    passkey, bad signature, no user verification…) or ``login.disabled``.
    """
    challenge = _take(key, LOGIN)
    credential = _credential_of(answer)
    user = db.session.get(User, credential.user_id) if credential is not None else None
    if credential is None or user is None:
        record("login.failed", client=client, reason="unknown_passkey", method="passkey")
        db.session.commit()
        raise FlowError("passkeys.invalid", FAILED)
    handle = (answer.get("response") or {}).get("userHandle") if isinstance(answer, dict) else None
    if handle and handle != bytes_to_base64url(_user_handle(user)):
        raise _failed(user, client, "user_handle")
    _verify(credential, user, challenge, answer, client, require_uv=True)
    if user.disabled:
        record("login.failed", user=user, client=client, reason="disabled", method="passkey")
        db.session.commit()
        raise FlowError("login.disabled", _l("This account has been disabled."), status=403)
    user.last_login_at = clock.now()
    amr = claims.amr_for("passkey")
    record("login.succeeded", user=user, client=client, method="passkey", amr=amr,
           passkey=credential.name)
    db.session.commit()
    return SignIn(user, "passkey", amr, return_to)


def second_factor_options(pending_key: str | None) -> Ceremony:
    """Start a passkey as the second factor of a pending sign-in; commits the challenge.

    Raises FlowError ``two_factor.expired``.
    """
    user = pending_sign_in.user_of(pending_sign_in.find(pending_key))
    rp_id, _ = relying_party()
    options = webauthn.generate_authentication_options(
        rp_id=rp_id, allow_credentials=[_descriptor(c) for c in of(user)],
        user_verification=UserVerificationRequirement.PREFERRED)
    return _ceremony(SECOND, options.challenge, options, user)


def second_factor(pending_key: str | None, key: str | None, answer: Any, *,
                  client: Client | None = None) -> Completed:
    """Finish a pending sign-in with a passkey; commits.

    Raises FlowError ``two_factor.expired``, ``two_factor.too_many`` or
    ``passkeys.invalid`` (a failure of the pending sign-in, counted like a wrong code).
    """
    pending = pending_sign_in.find(pending_key)
    user = pending_sign_in.user_of(pending)
    try:
        challenge = _take(key, SECOND, user_id=user.id)
        credential = _credential_of(answer)
        if credential is None or credential.user_id != user.id:
            raise FlowError("passkeys.invalid", FAILED)
        _verify(credential, user, challenge, answer, client, require_uv=False, audit=False)
    except FlowError:
        pending_sign_in.failed(pending_key, factor="passkey", client=client)
        raise
    return pending_sign_in.complete(pending, user, "passkey", client=client)


def remove(user: User, credential_id: int, *, session: Any,
           client: Client | None = None) -> WebAuthnCredential:
    """Remove one of ``user``'s passkeys, after a recent sign-in; commits.

    Raises ReauthRequired or FlowError ``passkeys.unknown`` (404).
    """
    sessions.require_recent(session, then=f"passkey-remove:{credential_id}")
    credential = db.session.get(WebAuthnCredential, credential_id)
    if credential is None or credential.user_id != user.id:
        raise FlowError("passkeys.unknown", _l("That passkey is not one of yours."), status=404)
    db.session.delete(credential)
    record("passkey.removed", user=user, client=client, name=credential.name)
    _notify(user, "removed", name=credential.name)
    db.session.commit()
    return credential


def _ceremony(purpose: str, challenge: bytes, options: Any, user: User | None) -> Ceremony:
    now = clock.now()
    db.session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at <= now))
    key = secrets.token_urlsafe(32)
    db.session.add(WebAuthnChallenge(key_hash=_hash(key), purpose=purpose, challenge=challenge,
                                     user_id=user.id if user else None, created_at=now,
                                     expires_at=now + CHALLENGE_TTL))
    db.session.commit()
    return Ceremony(key=key, options=webauthn.options_to_json(options))


def _take(key: str | None, purpose: str, *, user_id: int | None = None) -> bytes:
    """Spend the challenge ``key`` names (no commit); raises ``passkeys.invalid``."""
    row = db.session.get(WebAuthnChallenge, _hash(key)) if key and len(key) <= 128 else None
    if row is not None:
        db.session.delete(row)
        db.session.flush()
    if (row is None or row.purpose != purpose or row.expires_at <= clock.now()
            or row.user_id != user_id):
        db.session.commit()
        raise FlowError("passkeys.invalid",
                        _l("That took too long or was already used. Please try again."))
    return row.challenge


def _credential_of(answer: Any) -> WebAuthnCredential | None:
    raw = answer.get("id") if isinstance(answer, dict) else None
    if not isinstance(raw, str) or not raw or len(raw) > 1400:
        return None
    return db.session.scalar(select(WebAuthnCredential)
                             .where(WebAuthnCredential.credential_id == raw))


def _verify(credential: WebAuthnCredential, user: User, challenge: bytes, answer: Any,
            client: Client | None, *, require_uv: bool, audit: bool = True) -> None:
    """Check an assertion against the stored key; records the new sign count (no commit)."""
    rp_id, origin = relying_party()
    try:
        verified = webauthn.verify_authentication_response(
            credential=_answer(answer), expected_challenge=challenge, expected_rp_id=rp_id,
            expected_origin=origin, credential_public_key=credential.public_key,
            credential_current_sign_count=credential.sign_count,
            require_user_verification=require_uv)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        if audit:
            raise _failed(user, client, type(exc).__name__) from None
        raise _invalid(exc) from None
    credential.sign_count = verified.new_sign_count
    credential.last_used_at = clock.now()


def _failed(user: User, client: Client | None, reason: str) -> FlowError:
    record("login.failed", user=user, client=client, reason="bad_passkey", method="passkey",
           detail=reason)
    db.session.commit()
    return FlowError("passkeys.invalid", FAILED)


def _invalid(exc: BaseException) -> FlowError:
    db.session.commit()  # the spent challenge stays spent
    return FlowError("passkeys.invalid", FAILED)


def _answer(answer: Any) -> dict[str, Any]:
    """The browser's PublicKeyCredential as JSON; refuses what is not a small object."""
    if not isinstance(answer, dict) or len(json.dumps(answer)) > MAX_ANSWER_LENGTH:
        raise ValueError("not a credential")
    return answer


def _descriptor(credential: WebAuthnCredential) -> PublicKeyCredentialDescriptor:
    return PublicKeyCredentialDescriptor(
        id=webauthn.base64url_to_bytes(credential.credential_id),
        transports=[AuthenticatorTransport(t) for t in credential.transports or []
                    if t in TRANSPORTS])


def _user_handle(user: User) -> bytes:
    """What the authenticator keeps to name the account: its id, nothing personal."""
    return str(user.id).encode()


def _notify(user: User, variant: str, **context: Any) -> None:
    two_factor.notify(user, variant, folder="passkeys", **context)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
