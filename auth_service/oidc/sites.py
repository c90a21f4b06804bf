"""The "Sites you signed in to" part of /account: the reader's grants, and withdrawing one."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from auth_service.errors import FlowError
from auth_service.models import Consent
from auth_service.oidc import consents
from auth_service.views import account
from auth_service.views.common import client
from auth_service.views.forms import ButtonForm

bp = Blueprint("oidc_sites", __name__)


def signed_in_sites() -> list[Consent]:
    """For the account page's template: the current reader's grants (none when signed out)."""
    if not current_user.is_authenticated:
        return []
    return consents.for_user(current_user)


@bp.post("/account/sites/<int:consent_id>/withdraw")
@login_required
def withdraw(consent_id: int) -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        consents.withdraw(current_user, consent_id, client=client())
    except FlowError as exc:
        abort(exc.status)
    return account.back("site_removed")
