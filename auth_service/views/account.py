"""The signed-in reader's pages: four sections a reader can find, each at its own URL.

/account/profile (name, address; /account shows it too, with the menu),
/account/security (ways to sign in, password), /account/sessions (devices and
sites signed in to), /account/data (what was accepted, the download, deletion).
Each form keeps its own POST route; after one, the reader lands on its section
with a notice saying how it went.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Blueprint, Response, abort, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from auth_service.errors import FlowError, InvalidInput, ReauthRequired
from auth_service.flows import account as account_flow
from auth_service.flows import (
    passkeys,
    pending_sign_in,
    personal_data,
    policies,
    recovery,
    two_factor,
)
from auth_service.flows import sessions as session_flow
from auth_service.providers import registry
from auth_service.views import limits, session_cookie
from auth_service.views.common import attach, client, show
from auth_service.views.devices import describe
from auth_service.views.forms import (
    ButtonForm,
    ChangeEmailForm,
    ChangePasswordForm,
    DeleteAccountForm,
    ReauthForm,
)
from auth_service.views.two_factor import after_reauth_first_factor

bp = Blueprint("account", __name__, url_prefix="/account")

# The account's sections, each at /account/<name>, in the order the menu lists them.
SECTIONS = {
    "profile": _l("Profile"),
    "security": _l("Sign-in and security"),
    "sessions": _l("Where you're signed in"),
    "data": _l("Your data"),
}


@dataclass(frozen=True)
class Notice:
    """What an action's result page says, on the section it belongs to (and where on it)."""

    text: str | LazyString
    section: str
    anchor: str | None = None


@bp.app_context_processor
def _sign_in_methods() -> dict[str, object]:
    return {"sign_in_method": sign_in_method}


def sign_in_method(method: str) -> str:
    """How a session was signed in to, in the reader's words: "a password", "Google"."""
    if method == "password":
        return str(_l("a password"))
    provider = registry.get(method)
    return provider.label if provider else method


NOTICES = {
    "password": Notice(_l("Your password was changed. Other devices were signed out."),
                       "security"),
    "revoked": Notice(_l("That session was signed out."), "sessions"),
    "linked": Notice(_l("The account was linked. You can now sign in with it."), "security"),
    "unlinked": Notice(_l("The account was unlinked."), "security"),
    "setup": Notice(_l("We've emailed you a link to set a password."), "security"),
    "confirm_delete": Notice(_l("Thanks, that's you. Confirm once more below to delete your "
                                "account."), "data", "delete-heading"),
    "confirm_email": Notice(_l("Thanks, that's you. Enter your new address once more below."),
                            "profile", "email-heading"),
    "confirm_export": Notice(_l("Thanks, that's you. Your data is ready to download below."),
                             "data", "export-heading"),
    "email_sent": Notice(_l("We've sent a link to your new address. Your address changes when "
                            "you open it."), "profile"),
    "site_removed": Notice(_l("That site no longer has access to your account."), "sessions"),
    "two_factor_off": Notice(_l("Two-step sign-in is off. Signing in no longer asks for a code."),
                             "security", "two-factor-heading"),
    "passkey_added": Notice(_l("The passkey was added. You can now sign in with it."),
                            "security", "passkeys-heading"),
    "passkey_removed": Notice(_l("The passkey was removed."), "security", "passkeys-heading"),
}

# What needed a recent sign-in, for a form on a section: the notice that brings it back.
FORMS_AFTER_REAUTH = {"delete": "confirm_delete", "email": "confirm_email",
                      "export": "confirm_export"}


# Buttons that need a recent sign-in, to press once more after it: endpoint and label.
AFTER_REAUTH_BUTTONS = {
    "recovery-codes": ("two_factor.regenerate", _l("Make new recovery codes")),
    "two-factor-off": ("two_factor.disable", _l("Turn off two-step sign-in")),
}


def back(notice: str) -> Response:
    """303 to the section an action belongs to, saying how it went."""
    found = NOTICES[notice]
    return redirect(url_for("account.section", name=found.section, done=notice,
                            _anchor=found.anchor), code=303)


def page(name: str = "profile", *, status: int | None = None, notice: str | None = None,
         error: FlowError | None = None, first: bool = False,
         **forms: FlaskForm) -> tuple[str, int]:
    """One section of the account page (``first``: as /account shows it); a form given in
    ``forms`` is shown as submitted, with its errors."""
    current = session_cookie.current_session()
    linked = account_flow.identities(current_user)
    linked_names = {identity.provider for identity in linked}
    found = NOTICES.get(notice or "")
    context = {
        "user": current_user, "sections": SECTIONS, "current": name, "first": first,
        "notice": found.text if found and found.section == name else None,
        "error": error,
        "identities": [(i, registry.get(i.provider)) for i in linked],
        "linkable": [p for p in registry.all_providers() if p.name not in linked_names],
        "sessions": [(s, describe(s.user_agent), current is not None and s.id == current.id)
                     for s in session_flow.active_for(current_user)],
        "consents": policies.accepted_by(current_user),
        "two_factor_on": two_factor.enrolled(current_user),
        "passkeys": passkeys.of(current_user),
        "provider_labels": {p.name: p.label for p in registry.all_providers()},
        "password_form": forms.get("password_form") or ChangePasswordForm(formdata=None),
        "delete_form": forms.get("delete_form") or DeleteAccountForm(formdata=None),
        "email_form": forms.get("email_form") or ChangeEmailForm(formdata=None),
    }
    return show(f"account/{name}.html", ButtonForm(), status=status, **context)


@bp.get("")
@login_required
def index() -> tuple[str, int]:
    """The first section, profile: who you are, with the menu of the others."""
    return page(first=True, notice=request.args.get("done"))


@bp.get("/<any(profile, security, sessions, data):name>")
@login_required
def section(name: str) -> tuple[str, int]:
    return page(name, notice=request.args.get("done"))


@bp.post("/password/setup")
@login_required
def set_up_password() -> Response:
    """A social-only account gets a password the safe way: by a link to its address."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    recovery.send_password_setup(current_user, client=client())
    return back("setup")


@bp.post("/identities/<int:identity_id>/unlink")
@login_required
def unlink(identity_id: int) -> Response | tuple[str, int]:
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        account_flow.unlink(current_user, identity_id,
                            session=session_cookie.current_session(), client=client())
    except ReauthRequired:
        raise
    except FlowError as exc:
        return page("security", status=exc.status, error=exc)
    return back("unlinked")


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
@limits.per_ip
@limits.per_account
def reauth() -> Response | tuple[str, int]:
    """Prove it's you again before linking or unlinking: password, or a linked provider."""
    form = ReauthForm()
    next_step = request.values.get("next", "")[:100]
    current = session_cookie.current_session()
    if form.validate_on_submit() and current is not None:
        try:
            key = pending_sign_in.reauthenticate(current_user, current, form.password.data,
                                                 next_step=next_step, client=client())
        except InvalidInput as exc:
            attach(form, exc)
        else:
            return after_reauth_first_factor(key, next_step)
    linked = [registry.get(i.provider) for i in account_flow.identities(current_user)]
    return show("account/reauth.html", form, next=next_step,
                providers=[p for p in linked if p is not None], user=current_user)


@bp.get("/reauth/done")
@login_required
def after_reauth() -> Response | tuple[str, int]:
    """Carry on with what needed the re-authentication (it was a POST, so ask once more)."""
    next_step = request.args.get("next", "")
    kind, _, target = next_step.partition(":")
    if kind == "link" and registry.get(target):
        return show("account/continue.html", ButtonForm(), user=current_user,
                    action=url_for("social_login.start_link", name=target),
                    label=_l("Link %(provider)s", provider=registry.get(target).label))
    if kind in FORMS_AFTER_REAUTH:  # a form to send again: back to it, not a button
        return back(FORMS_AFTER_REAUTH[kind])
    if kind in AFTER_REAUTH_BUTTONS:  # a button that needed a recent sign-in: press it again
        endpoint, label = AFTER_REAUTH_BUTTONS[kind]
        return show("account/continue.html", ButtonForm(), user=current_user,
                    action=url_for(endpoint), label=label)
    if kind == "passkey-remove" and target.isdigit():
        return show("account/continue.html", ButtonForm(), user=current_user,
                    action=url_for("passkeys.remove", credential_id=int(target)),
                    label=_l("Remove the passkey"))
    if kind == "unlink" and target.isdigit():
        return show("account/continue.html", ButtonForm(), user=current_user,
                    action=url_for("account.unlink", identity_id=int(target)),
                    label=_l("Unlink"))
    return redirect(url_for("account.index"), code=303)


@bp.post("/password")
@login_required
@limits.per_ip
@limits.per_account
def change_password() -> Response | tuple[str, int]:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        current = session_cookie.current_session()
        try:
            account_flow.change_password(current_user, form.current_password.data,
                                         form.new_password.data,
                                         keep_session=current.id if current else None,
                                         client=client())
        except InvalidInput as exc:
            attach(form, exc)
        else:
            return back("password")
    return page("security", password_form=form, status=400)


@bp.post("/sessions/<session_id>/revoke")
@login_required
def revoke_session(session_id: str) -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    ended = session_flow.revoke_own(current_user, session_id, client=client())
    current = session_cookie.current_session()
    if current is not None and ended.id == current.id:  # this browser: signed out here too
        session_cookie.end(reason="revoked")
        return redirect(url_for("login.login"), code=303)
    return back("revoked")


@bp.post("/sessions/revoke-all")
@login_required
def sign_out_everywhere() -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    session_flow.sign_out_everywhere(current_user, client=client())
    session_cookie.end(reason="signed_out_everywhere")
    return redirect(url_for("login.login"), code=303)


@bp.post("/delete")
@login_required
def delete() -> Response | tuple[str, int]:
    """The reader deletes their own account (their address typed again, a recent sign-in)."""
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return page("data", delete_form=form, status=400)
    try:
        account_flow.delete_own(current_user._get_current_object(), form.email.data or "",
                                session=session_cookie.current_session(), client=client())
    except InvalidInput as exc:
        attach(form, exc)
        return page("data", delete_form=form, status=400)
    session_cookie.forget()  # the session went with the account; the cookie goes too
    return show("account/deleted.html")


@bp.post("/data/export")
@login_required
def export() -> Response:
    """"Download my data": what ``auth-service users export`` gives, as a JSON file."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    data = personal_data.export_own(current_user, session=session_cookie.current_session(),
                                    client=client())
    body = json.dumps(data, default=str, ensure_ascii=False, indent=2, sort_keys=True)
    name = f"account-data-{data['exported_at'][:10]}.json"
    return Response(body + "\n", mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    })
