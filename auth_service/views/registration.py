"""Register a local account."""

from __future__ import annotations

from flask import Blueprint, request
from werkzeug.wrappers import Response

from auth_service.errors import InvalidInput
from auth_service.flows import registration
from auth_service.views import limits
from auth_service.views.common import attach, client, keep_proof, show, trusted_return_to
from auth_service.views.forms import RegisterForm

bp = Blueprint("registration", __name__)


@bp.route("/register", methods=["GET", "POST"])
@limits.per_ip
@limits.per_address
def register() -> Response | tuple[str, int]:
    form = RegisterForm()
    if request.method == "GET":
        form.return_to.data = request.args.get("return_to", "")
    if form.validate_on_submit():
        try:
            proof = registration.register(
                form.email.data, form.password.data, form.display_name.data,
                client=client(), return_to=trusted_return_to(form.return_to.data),
            )
        except InvalidInput as exc:
            attach(form, exc)
        else:
            keep_proof(proof)  # a decoy if the address was registered: the same cookie
            # The same page whether the address was new or already registered.
            return show("registration/check_email.html")
    return show("registration/register.html", form)
