"""Confirm an address from its emailed link; ask for a new link.

GET (and HEAD) only show a button: mail scanners that follow links must not
spend the token. The POST from that button confirms.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from auth_service.errors import InvalidInput, TokenError
from auth_service.flows import account as account_flow
from auth_service.flows import verification
from auth_service.views import limits
from auth_service.views.common import attach, client, held_proofs, show, trusted_return_to
from auth_service.views.forms import ConfirmForm, EmailForm

bp = Blueprint("verification", __name__)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limits.per_ip
def confirm(token: str) -> Response | tuple[str, int]:
    form = ConfirmForm()
    try:
        if request.method == "POST" and form.validate_on_submit():
            try:
                done = verification.confirm(token, password=form.password.data or None,
                                            proofs=held_proofs(), client=client())
            except InvalidInput as exc:
                attach(form, exc)
            else:
                if done.reset_token:  # no password any more: choose one now
                    return redirect(url_for("recovery.reset", token=done.reset_token,
                                            confirmed="1"), code=303)
                return show("verification/confirmed.html", user=done.user,
                            return_to=trusted_return_to(done.return_to))
        pending = verification.check(token, held_proofs())
    except TokenError as exc:
        return _token_problem(exc)
    # Say which provider accounts come with it: someone who never asked for this
    # account should see it is not theirs before confirming it.
    linked = account_flow.identities(pending.user)
    return show("verification/confirm.html", form, user=pending.user, pending=pending,
                linked=list(zip(verification.provider_labels(linked), linked, strict=False)),
                unlinks=verification.provider_labels(pending.unlinks))


@bp.route("/confirm/resend", methods=["GET", "POST"])
@limits.per_ip
@limits.per_address
def resend() -> Response | tuple[str, int]:
    form = EmailForm()
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"][:320]
    if form.validate_on_submit():
        try:
            verification.resend(form.email.data, client=client())
        except InvalidInput as exc:
            attach(form, exc)
        else:
            return show("verification/resent.html")
    return show("verification/resend.html", form)


def _token_problem(error: TokenError) -> tuple[str, int]:
    form = EmailForm(formdata=None)
    if error.expired_email:
        form.email.data = error.expired_email
    return show("verification/problem.html", form, status=error.status, error=error)
