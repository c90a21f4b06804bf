"""The authenticator app (TOTP, RFC 6238) and its recovery codes: enrol, check, remove.

A code is accepted from the time step before to the one after now (±30 seconds
of clock skew) and never twice: the step of the last code accepted is stored,
and a code of that step or an older one is refused (RFC 6238 §5.2), with the
write conditional on it so two requests racing with one code cannot both pass.
Recovery codes are 80 random bits each, shown once, stored as SHA-256, and each
works once (the same conditional write). Removing the factor, or making new
codes, needs a recent sign-in; every change is audited and mailed to the owner.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import pyotp
import segno
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update

from auth_service import clock, links
from auth_service.errors import FlowError, InvalidInput
from auth_service.extensions import db
from auth_service.flows import sessions
from auth_service.flows.audit import Client, record
from auth_service.mail.outbox import enqueue
from auth_service.models import RecoveryCode, Session, TotpFactor, User, WebAuthnCredential

STEP = 30  # seconds per code (RFC 6238's default, what every app uses)
DIGITS = 6
SKEW = 1  # steps accepted either side of now
RECOVERY_CODE_COUNT = 10
# 16 characters of base32 (80 bits), shown in groups of four.
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
MAX_CODE_LENGTH = 64

WRONG_CODE = _l("That code is not right. Check your authenticator app and try again.")


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret as text, in a URI, and as a QR code."""

    secret: str
    uri: str
    qr_svg: str


def factor_of(user: User) -> TotpFactor | None:
    return db.session.scalar(select(TotpFactor).where(TotpFactor.user_id == user.id))


def enrolled(user: User) -> bool:
    """Whether the account has a confirmed authenticator app."""
    factor = factor_of(user)
    return factor is not None and factor.confirmed


def has_passkey(user: User) -> bool:
    return db.session.scalar(select(WebAuthnCredential.id)
                             .where(WebAuthnCredential.user_id == user.id).limit(1)) is not None


def has_second_factor(user: User) -> bool:
    """Whether a sign-in to this account asks for a second factor: an app or a passkey."""
    return enrolled(user) or has_passkey(user)


def must_enrol(user: User) -> bool:
    """Whether the account has a role of AUTH_REQUIRE_2FA_ROLES and no second factor yet."""
    required = set(current_app.config["REQUIRE_2FA_ROLES"])
    return bool(required & set(user.roles)) and not has_second_factor(user)


def enrolment(user: User) -> Enrolment:
    """The secret being enrolled (a new one the first time); commits.

    Raises FlowError ``two_factor.already_enrolled`` (409) when the app is confirmed:
    a second secret would silently replace the one in the reader's app.
    """
    factor = factor_of(user)
    if factor is not None and factor.confirmed:
        raise FlowError("two_factor.already_enrolled",
                        _l("Two-step sign-in is already on for your account."), status=409)
    if factor is None:
        factor = TotpFactor(user_id=user.id, secret=pyotp.random_base32(32))
        db.session.add(factor)
        db.session.commit()
    uri = _totp(factor).provisioning_uri(name=user.email,
                                         issuer_name=current_app.config["SITE_NAME"])
    title = str(_l("QR code for your authenticator app"))
    qr = segno.make(uri, error="m").svg_inline(scale=4, title=title, svgclass="qr")
    return Enrolment(secret=factor.secret, uri=uri, qr_svg=qr)


def confirm(user: User, code: str, *, client: Client | None = None) -> list[str]:
    """Turn the app on with a code from it; commits. Returns the ten recovery codes.

    Raises InvalidInput ``two_factor.wrong_code`` (field ``code``) or FlowError
    ``two_factor.not_enrolling`` when no enrolment is under way.
    """
    factor = factor_of(user)
    if factor is None or factor.confirmed:
        raise FlowError("two_factor.not_enrolling",
                        _l("Start again from your account page."), status=409)
    if not _accept(factor, code):
        raise InvalidInput("two_factor.wrong_code", WRONG_CODE, field="code")
    factor.confirmed_at = clock.now()
    codes = _replace_recovery_codes(user)
    record("two_factor.enrolled", user=user, client=client, factor="totp")
    notify(user, "enrolled")
    db.session.commit()
    return codes


def check_code(user: User, code: str, *, client: Client | None = None) -> str:
    """Check a second-factor code (the app's, or a recovery code); no commit on success.

    Returns what it was, "totp" or "recovery" (a used recovery code is audited and
    mailed). Raises InvalidInput ``two_factor.wrong_code``; the caller audits that.
    """
    cleaned = "".join((code or "")[:MAX_CODE_LENGTH].split())
    if cleaned.isdigit() and len(cleaned) == DIGITS:
        factor = factor_of(user)
        if factor is not None and factor.confirmed and _accept(factor, cleaned):
            return "totp"
    elif _spend_recovery_code(user, cleaned):
        left = recovery_codes_left(user)
        record("two_factor.recovery_code_used", user=user, client=client, left=left)
        notify(user, "recovery_code_used", left=left)
        return "recovery"
    raise InvalidInput("two_factor.wrong_code", WRONG_CODE, field="code")


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def regenerate_recovery_codes(user: User, *, session: Session | None,
                              client: Client | None = None) -> list[str]:
    """New recovery codes, the old ones dead; needs a recent sign-in; commits.

    Raises ReauthRequired or FlowError ``two_factor.not_enrolled``.
    """
    sessions.require_recent(session, then="recovery-codes")
    if not enrolled(user):
        raise FlowError("two_factor.not_enrolled", _l("Two-step sign-in is not on."), status=409)
    codes = _replace_recovery_codes(user)
    record("two_factor.recovery_codes_replaced", user=user, client=client)
    notify(user, "codes_replaced")
    db.session.commit()
    return codes


def recovery_codes_text(user: User, codes: list[str]) -> str:
    """The codes just shown, as a text file to keep; only codes of ``user`` that still work.

    The page posts back the codes it shows (nothing keeps them in clear text);
    anything else is refused, so this cannot be used to serve text of one's choosing.
    Raises InvalidInput ``two_factor.codes_unknown``.
    """
    cleaned = [_normalise_recovery(code) for code in codes[:RECOVERY_CODE_COUNT]]
    hashes = {_hash(code) for code in cleaned if code}
    found = set(db.session.scalars(select(RecoveryCode.code_hash).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
        RecoveryCode.code_hash.in_(hashes)))) if hashes else set()
    if not hashes or found != hashes:
        raise InvalidInput("two_factor.codes_unknown",
                           _l("These codes are no longer valid. Make new ones."))
    config = current_app.config
    lines = [str(_l("Recovery codes for %(email)s at %(site)s (%(url)s)", email=user.email,
                    site=config["SITE_NAME"], url=config["BASE_URL"])),
             str(_l("Each works once, in place of a code from your authenticator app.")), ""]
    return "\n".join([*lines, *(_grouped(code) for code in cleaned), ""])


def disable(user: User, *, session: Session | None, client: Client | None = None) -> None:
    """Turn the app off and drop its recovery codes; needs a recent sign-in; commits.

    Raises ReauthRequired or FlowError ``two_factor.not_enrolled``.
    """
    sessions.require_recent(session, then="two-factor-off")
    if factor_of(user) is None:
        raise FlowError("two_factor.not_enrolled", _l("Two-step sign-in is not on."), status=409)
    _remove_totp(user)
    record("two_factor.removed", user=user, client=client, factor="totp", by="owner")
    notify(user, "removed", by_admin=False)
    db.session.commit()


def reset(user: User, *, client: Client | None = None) -> dict[str, int]:
    """An admin removes every second factor (``users reset-2fa``): the app, its recovery
    codes and the passkeys, for a reader who lost them; commits. Returns what went."""
    removed = {"totp": int(factor_of(user) is not None),
               "recovery_codes": recovery_codes_left(user),
               "passkeys": db.session.scalar(select(func.count()).select_from(
                   WebAuthnCredential).where(WebAuthnCredential.user_id == user.id)) or 0}
    _remove_totp(user)
    db.session.execute(delete(WebAuthnCredential).where(WebAuthnCredential.user_id == user.id))
    record("two_factor.reset", user=user, client=client, by="admin", **removed)
    if removed["totp"] or removed["passkeys"]:
        notify(user, "removed", by_admin=True)
    db.session.commit()
    return removed


def summary(user: User) -> dict[str, Any]:
    """The account's second factors for an export or an admin (never a secret)."""
    factor = factor_of(user)
    credentials = db.session.scalars(select(WebAuthnCredential).where(
        WebAuthnCredential.user_id == user.id).order_by(WebAuthnCredential.id))
    return {
        "totp": None if factor is None else {
            "confirmed": factor.confirmed, "created_at": _iso(factor.created_at),
            "confirmed_at": _iso(factor.confirmed_at)},
        "recovery_codes_left": recovery_codes_left(user),
        "passkeys": [{"name": c.name, "created_at": _iso(c.created_at),
                      "last_used_at": _iso(c.last_used_at), "transports": c.transports}
                     for c in credentials],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def notify(user: User, variant: str, *, folder: str = "two_factor", **context: Any) -> None:
    """Tell the owner by email (templates/email/<folder>/<variant>/); no commit."""
    enqueue(f"{folder}/{variant}", to=user.email, user=user, at=clock.now(),
            account_url=links.external("account.index"), forgot_url=links.forgot(), **context)


def _totp(factor: TotpFactor) -> pyotp.TOTP:
    return pyotp.TOTP(factor.secret, digits=DIGITS, interval=STEP)


def _accept(factor: TotpFactor, code: str) -> bool:
    """Whether ``code`` is the app's for a step near now not used yet; spends that step.

    The step is written only if no other request wrote it or a later one first.
    """
    code = "".join((code or "")[:MAX_CODE_LENGTH].split())
    if not (code.isdigit() and len(code) == DIGITS):
        return False
    now = int(clock.now().timestamp()) // STEP
    totp = _totp(factor)
    last = factor.last_used_step if factor.last_used_step is not None else -1
    for step in range(now - SKEW, now + SKEW + 1):
        if step <= last or not hmac.compare_digest(totp.at(step * STEP), code):
            continue
        fresh = (TotpFactor.last_used_step.is_(None) | (TotpFactor.last_used_step < step))
        result = db.session.execute(update(TotpFactor).where(TotpFactor.id == factor.id, fresh)
                                    .values(last_used_step=step))
        db.session.refresh(factor)
        return result.rowcount == 1
    return False


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(16))
             for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes)
    return [_grouped(code) for code in codes]


def _spend_recovery_code(user: User, typed: str) -> bool:
    code = _normalise_recovery(typed)
    if not code:
        return False
    result = db.session.execute(update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code),
        RecoveryCode.used_at.is_(None)).values(used_at=clock.now()))
    return result.rowcount == 1


def _remove_totp(user: User) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(TotpFactor).where(TotpFactor.user_id == user.id))


def _normalise_recovery(typed: str) -> str:
    """Lower case, without the spaces and dashes people type or copy along."""
    code = (typed or "")[:MAX_CODE_LENGTH].lower().replace("-", "").replace(" ", "")
    return code if len(code) == 16 and all(c in RECOVERY_ALPHABET for c in code) else ""


def _grouped(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
