"""Continue with a social account: sign in, sign up, or link — without account takeover.

Identities are found by (provider, subject), never by email. An address from a
provider attaches to an existing account only when the provider verified it
AND the account's own address is confirmed; otherwise the reader must sign in
to that account and link from /account (pre-account-hijacking defence). An
account whose address nobody has proved yet cannot be signed in to, by any
method, while AUTH_REQUIRE_CONFIRMED_EMAIL is on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from auth_service import clock
from auth_service.errors import FlowError, Unconfirmed
from auth_service.extensions import db
from auth_service.flows import address_proof, pending_sign_in, policies, registration, verification
from auth_service.flows.addresses import find_by_email, normalize_email
from auth_service.flows.audit import Client, record
from auth_service.flows.pending_sign_in import SignIn, first_factor_passed
from auth_service.i18n import N_
from auth_service.models import Identity, Session, User
from auth_service.providers.profile import Profile

log = logging.getLogger(__name__)


# Why a round trip failed, per stable code (%(label)s: the provider's name on the pages);
# N_ marks them for the catalogue, failure() translates them.
MESSAGES = {
    "social.cancelled": N_("You cancelled signing in with %(label)s. Nothing was changed."),
    "social.refused": N_("%(label)s did not let you sign in. Please try again."),
    "social.state": N_("This sign-in link has expired or was already used. Please start again."),
    "social.unreachable": N_("We couldn't reach %(label)s just now. Please try again in a moment."),
    "social.busy": N_("Many readers are signing in with %(label)s right now. Please try again in a "
                   "moment."),
    "social.invalid_token": N_("We couldn't verify the answer from %(label)s, so you were not "
                            "signed in. Please try again."),
    "social.issuer": N_("The answer did not come from %(label)s, so you were not signed in. "
                     "Please start again."),
    "social.bad_profile": N_("%(label)s sent a profile we could not read, so you were not signed "
                          "in."),
    "social.no_id_token": N_("%(label)s did not send an ID token, so you were not signed in."),
    "social.reauth_mismatch": N_("That %(label)s account is not linked to the account you're "
                              "signed in to."),
}
# The service's own state rather than the reader's or the provider's doing.
BUSY = "social.busy"


@dataclass(frozen=True)
class NeedsEmail:
    """The provider gave no address (a Facebook account made with a phone number): ask."""

    profile: Profile


def failure(code: str, *, provider: str, label: str, user: User | None = None,
            client: Client | None = None, error: BaseException | None = None) -> FlowError:
    """A round trip that failed: logged and audited (commits); returns the error to show.

    ``error`` is what went wrong underneath, for the log (its type only: a
    provider's message may echo a code or a token).
    """
    log.warning("social sign-in failed: provider=%s code=%s error=%s", provider, code,
                type(error).__name__ if error else "-")
    record("social.failed", user=user, client=client, provider=provider, code=code)
    db.session.commit()
    message = _l(MESSAGES.get(code, MESSAGES["social.refused"]), label=label)
    return FlowError(code, message, status=503 if code == BUSY else 400)


def find_identity(provider: str, subject: str) -> Identity | None:
    return db.session.scalar(
        select(Identity).where(Identity.provider == provider, Identity.subject == subject))


def sign_in(profile: Profile, *, label: str, client: Client | None = None,
            return_to: str | None = None) -> SignIn | NeedsEmail:
    """The account this provider account signs in to, created if new; commits.

    The SignIn may wait for the account's second factor (flows/pending_sign_in.py):
    a provider's round trip never skips it.

    Returns NeedsEmail when the provider gave no address and no account is linked.
    Raises FlowError ``social.account_exists`` (the address belongs to an account
    we may not attach to), ``login.disabled``, or Unconfirmed (with this browser's
    proof, flows/address_proof.py).
    """
    identity = find_identity(profile.provider, profile.subject)
    if identity is not None:
        user = db.session.get(User, identity.user_id)
        assert user is not None  # identities cascade with their account
        _refresh(identity, profile)
        return _signed_in(user, profile, client, return_to)

    email = _usable_email(profile)
    if email is None:
        return NeedsEmail(profile)
    existing = find_by_email(email)
    if existing is not None:
        if not (profile.email_verified and existing.email_confirmed):
            record("social.attach_refused", user=existing, client=client,
                   provider=profile.provider, provider_verified=profile.email_verified)
            db.session.commit()
            raise FlowError(
                "social.account_exists",
                _l("An account already uses the address your %(label)s account gave us. "
                   "Sign in to it (or reset its password), then link %(label)s from your "
                   "account page.", label=label), status=409)
        _attach(existing, profile, client, automatic=True)
        return _signed_in(existing, profile, client, return_to)

    user = User(email=email, display_name=profile.name, avatar_url=profile.avatar_url,
                email_confirmed_at=clock.now() if profile.email_verified else None,
                language=client.language if client else None)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same address registered a moment ago: try again as existing
        db.session.rollback()
        return sign_in(profile, label=label, client=client, return_to=return_to)
    db.session.add(_new_identity(user, profile))
    policies.record_acceptance(user, method=profile.provider)
    if not profile.email_verified:
        verification.send_confirmation(user)
    record("registration.created", user=user, client=client, method=profile.provider)
    return _signed_in(user, profile, client, return_to)


def sign_up_with_email(profile: Profile, raw_email: str, *, client: Client | None = None) -> str:
    """Finish a sign-up whose provider gave no address: confirm the typed one by link; commits.

    Tells nothing either way (the page is the same): a new address gets the
    account, unconfirmed, and a confirmation link; a registered one gets the
    "someone tried to register" email and no identity is attached. Returns a
    browser proof as registration does (a decoy unless an account was made).
    """
    email = normalize_email(raw_email)
    if find_identity(profile.provider, profile.subject) is not None:
        return address_proof.decoy_proof()
    existing = find_by_email(email)
    if existing is not None:
        registration.notify_owner(existing, client)
        db.session.commit()
        return address_proof.decoy_proof()
    user = User(email=email, display_name=profile.name, avatar_url=profile.avatar_url,
                language=client.language if client else None)
    db.session.add(user)
    db.session.flush()
    db.session.add(_new_identity(user, profile))
    policies.record_acceptance(user, method=profile.provider)
    verification.send_confirmation(user)
    record("registration.created", user=user, client=client, method=profile.provider)
    db.session.commit()
    return address_proof.browser_proof(user)


def reauthenticate(user: User, session: Session, profile: Profile, *, label: str,
                   next_step: str, client: Client | None = None) -> str | None:
    """The reader proves it is them again with a provider account linked to theirs; commits.

    Returns None, or the key of the pending re-authentication when the account has a
    second factor (flows/pending_sign_in.reauthenticated). Raises FlowError
    ``social.reauth_mismatch`` (audited) for any other provider account.
    """
    identity = find_identity(profile.provider, profile.subject)
    if identity is None or identity.user_id != user.id:
        raise failure("social.reauth_mismatch", provider=profile.provider, label=label,
                      user=user, client=client)
    return pending_sign_in.reauthenticated(user, session, method=profile.provider,
                                           next_step=next_step, client=client)


def link(user: User, profile: Profile, *, label: str, client: Client | None = None) -> None:
    """Attach a provider account to the signed-in ``user``; commits.

    Raises FlowError ``social.linked_elsewhere`` if it belongs to another account.
    """
    identity = find_identity(profile.provider, profile.subject)
    if identity is not None:
        if identity.user_id != user.id:
            raise FlowError("social.linked_elsewhere",
                            _l("That %(label)s account is already linked to another "
                               "account.", label=label),
                            status=409)
        _refresh(identity, profile)
        db.session.commit()
        return
    _attach(user, profile, client, automatic=False)
    db.session.commit()


def _usable_email(profile: Profile) -> str | None:
    if not profile.email:
        return None
    try:
        return normalize_email(profile.email)
    except FlowError:
        return None


def _new_identity(user: User, profile: Profile) -> Identity:
    return Identity(user_id=user.id, provider=profile.provider, subject=profile.subject,
                    email=profile.email, email_verified=profile.email_verified,
                    name=profile.name, avatar_url=profile.avatar_url)


def _attach(user: User, profile: Profile, client: Client | None, *, automatic: bool) -> None:
    db.session.add(_new_identity(user, profile))
    if user.avatar_url is None and profile.avatar_url:
        user.avatar_url = profile.avatar_url
    record("social.linked", user=user, client=client, provider=profile.provider,
           automatic=automatic)


def _refresh(identity: Identity, profile: Profile) -> None:
    identity.email = profile.email
    identity.email_verified = profile.email_verified
    identity.name = profile.name
    identity.avatar_url = profile.avatar_url
    identity.last_used_at = clock.now()


def _signed_in(user: User, profile: Profile, client: Client | None,
               return_to: str | None) -> SignIn:
    """Sign-in's last checks, the same as for a password; commits either way."""
    if user.disabled:
        record("login.failed", user=user, client=client, reason="disabled",
               method=profile.provider)
        db.session.commit()
        raise FlowError("login.disabled", _l("This account has been disabled."), status=403)
    if current_app.config["REQUIRE_CONFIRMED_EMAIL"] and not user.email_confirmed:
        # The provider did not vouch for this address: until its owner follows the
        # emailed link, nobody signs in to an account that carries it.
        record("login.failed", user=user, client=client, reason="unconfirmed",
               method=profile.provider)
        db.session.commit()
        raise Unconfirmed(_l("Confirm your email address first: follow the link we emailed "
                             "you, then continue again."), proof=address_proof.browser_proof(user))
    return first_factor_passed(user, method=profile.provider, client=client,
                               return_to=return_to)
