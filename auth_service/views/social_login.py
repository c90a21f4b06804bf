"""Continue with Google, Facebook, GitHub or any OpenID Connect provider.

``GET /login/<provider>`` starts a sign-in; ``POST /account/link/<provider>`` and
``POST /account/reauth/<provider>`` start a link or a re-authentication (POST with
a CSRF token, so another site cannot make a signed-in browser link an account).
Every round trip carries state, PKCE and, for OpenID Connect, a nonce (Authlib).
What the round trip is for waits in Flask's session and is taken out exactly
once; Authlib's own state waits on the server (providers/state_store.py), so a
replayed callback finds nothing. The flow (flows/social_login.py) decides; this
module only speaks OAuth through Authlib and turns results into pages.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeAlias

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_login import current_user
from joserfc.errors import JoseError
from requests import RequestException
from werkzeug.wrappers import Response

from auth_service import clock, links, metrics
from auth_service.errors import FlowError, InvalidInput, Unconfirmed
from auth_service.flows import sessions as session_flow
from auth_service.flows import social_login
from auth_service.providers import registry, slots
from auth_service.providers.profile import Profile, ProviderError
from auth_service.views import account, limits, session_cookie
from auth_service.views.common import (
    attach,
    client,
    keep_proof,
    show,
    trusted_return_to,
)
from auth_service.views.forms import ButtonForm, EmailForm
from auth_service.views.two_factor import after_first_factor, after_reauth_first_factor

bp = Blueprint("social_login", __name__)

# A rendered page and its status, with headers for some (Retry-After when busy).
Page: TypeAlias = tuple[str, int] | tuple[str, int, dict[str, str]]
Answer: TypeAlias = Response | Page
log = logging.getLogger(__name__)

FLOW_KEY = "auth_social_flow"
PENDING_KEY = "auth_social_pending"
PENDING_MAX_AGE = 30 * 60  # seconds to finish a sign-up whose provider gave no email


def _provider(name: str) -> registry.Provider:
    provider = registry.get(name)
    if provider is None:
        abort(404)
    return provider


def _begin(provider: registry.Provider, intent: str, return_to: str | None) -> Answer:
    """Remember what this round trip is for and send the reader to the provider."""
    session[FLOW_KEY] = {"provider": provider.name, "intent": intent, "return_to": return_to}
    redirect_uri = links.provider_callback(provider.name)
    # The first sign-in of a process fetches the provider's OpenID Connect metadata.
    with _provider_slot() as free:
        if not free:
            session.pop(FLOW_KEY, None)
            return _failed(provider, "social.busy", None)
        try:
            return provider.client.authorize_redirect(redirect_uri)
        except (RequestException, AuthlibBaseError, ValueError) as exc:
            session.pop(FLOW_KEY, None)
            return _failed(provider, "social.unreachable", exc)


def _provider_slot() -> AbstractContextManager[bool]:
    """One of the AUTH_PROVIDER_CONCURRENCY slots for a wait on a provider (providers/slots.py)."""
    return slots.slot(Path(current_app.instance_path) / "provider-slots",
                      current_app.config["PROVIDER_CONCURRENCY"])


@bp.get("/login/<name>")
@limits.round_trip
def start(name: str) -> Answer:
    provider = _provider(name)
    return _begin(provider, "login", trusted_return_to(request.args.get("return_to")))


@bp.post("/account/link/<name>")
@limits.round_trip
def start_link(name: str) -> Answer:
    provider = _provider(name)
    if not current_user.is_authenticated or not ButtonForm().validate_on_submit():
        abort(400)
    session_flow.require_recent(session_cookie.current_session(), then=f"link:{name}")
    return _begin(provider, "link", None)


@bp.post("/account/reauth/<name>")
@limits.round_trip
def start_reauth(name: str) -> Answer:
    provider = _provider(name)
    if not current_user.is_authenticated or not ButtonForm().validate_on_submit():
        abort(400)
    return _begin(provider, "reauth", request.form.get("next"))


@bp.get("/login/<name>/callback")
@limits.round_trip
def callback(name: str) -> Answer:
    provider = _provider(name)
    flow = session.pop(FLOW_KEY, None)
    if not isinstance(flow, dict) or flow.get("provider") != name:
        return _failed(provider, "social.state", None)
    try:
        if not provider.accepts_issuer(request.args.get("iss")):
            return _failed(provider, "social.issuer", None)
        with _provider_slot() as free:
            if not free:
                return _failed(provider, "social.busy", None)
            token = provider.client.authorize_access_token()
            profile = provider.profile(token)
    except OAuthError as exc:
        code = "social.cancelled" if exc.error == "access_denied" else "social.refused"
        if isinstance(exc, MismatchingStateError):
            code = "social.state"
        return _failed(provider, code, exc)
    except ProviderError as exc:
        return _failed(provider, exc.code, exc)
    except RequestException as exc:
        return _failed(provider, "social.unreachable", exc)
    except (AuthlibBaseError, JoseError, ValueError, KeyError) as exc:  # ID token checks, bad JSON
        return _failed(provider, "social.invalid_token", exc)
    metrics.social_round_trip_ok(provider.name)
    return _finish(provider, flow, profile)


def _finish(provider: registry.Provider, flow: dict[str, Any],
            profile: Profile) -> Answer:
    intent = flow.get("intent")
    current = session_cookie.current_session()
    try:
        if intent == "link" and current_user.is_authenticated:
            social_login.link(current_user, profile, label=provider.label, client=client())
            return account.back("linked")
        if intent == "reauth" and current is not None:
            next_step = flow.get("return_to") or ""
            key = social_login.reauthenticate(current_user, current, profile,
                                              label=provider.label, next_step=next_step,
                                              client=client())
            return after_reauth_first_factor(key, next_step)
        result = social_login.sign_in(profile, label=provider.label, client=client(),
                                      return_to=flow.get("return_to"))
    except Unconfirmed as exc:
        keep_proof(exc.proof)  # the confirmation link, opened here, keeps this provider account
        return _problem(provider, exc)
    except FlowError as exc:
        return _problem(provider, exc)
    if isinstance(result, social_login.NeedsEmail):
        session[PENDING_KEY] = {**asdict(result.profile), "return_to": flow.get("return_to"),
                                "at": int(clock.now().timestamp())}
        return redirect(url_for("social_login.ask_email", name=provider.name), code=303)
    return after_first_factor(result)


@bp.route("/login/<name>/email", methods=["GET", "POST"])
@limits.per_ip
@limits.per_address
def ask_email(name: str) -> Answer:
    """The provider gave no address: ask for one, and confirm it by link before it counts."""
    provider = _provider(name)
    pending = session.get(PENDING_KEY)
    fresh = (isinstance(pending, dict) and pending.get("provider") == name
             and clock.now().timestamp() - pending.get("at", 0) < PENDING_MAX_AGE)
    if not fresh:
        return _failed(provider, "social.state", None)
    form = EmailForm()
    if form.validate_on_submit():
        profile = Profile(**{k: pending[k] for k in (
            "provider", "subject", "email", "email_verified", "name", "avatar_url")})
        try:
            proof = social_login.sign_up_with_email(profile, form.email.data, client=client())
        except InvalidInput as exc:
            attach(form, exc)
        else:
            session.pop(PENDING_KEY, None)
            keep_proof(proof)
            return show("social_login/check_email.html", provider=provider)
    return show("social_login/ask_email.html", form, provider=provider)


# Seconds a reader is asked to wait when every provider slot is taken (providers/slots.py).
BUSY_RETRY_AFTER = "5"


def _failed(provider: registry.Provider, code: str,
            exc: BaseException | None) -> Page:
    """A friendly page with a way back; the flow logs and audits the reason."""
    signed_in = current_user._get_current_object() if current_user.is_authenticated else None
    return _problem(provider, social_login.failure(
        code, provider=provider.name, label=provider.label, user=signed_in, client=client(),
        error=exc))


def _problem(provider: registry.Provider, error: FlowError) -> Page:
    page, status = show("social_login/problem.html", status=error.status, error=error,
                        provider=provider)
    if error.code == social_login.BUSY:  # the service's own state: come back in a moment
        return page, status, {"Retry-After": BUSY_RETRY_AFTER}
    return page, status
