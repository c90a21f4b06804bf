"""Domain errors: a stable code for programs, a sentence for people, an HTTP status for views.

Flows raise these; ``views/errors.py`` has the one handler that renders them.
Codes are ``<flow>.<what>`` (``recovery.token_expired``) and never change meaning.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


class ConfigError(Exception):
    """A setting is missing or malformed; ``str()`` is the one line to show the operator."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


class FlowError(Exception):
    """A request that cannot be done as asked, for a reason the reader can be told."""

    status = 400

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status


class InvalidInput(FlowError):
    """A field's value is unusable (malformed address, weak password…)."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(code, message, status=400)
        self.field = field


class TokenError(FlowError):
    """An emailed link that is expired, tampered with or already used."""

    def __init__(self, code: str, message: str, *, expired_email: str | None = None) -> None:
        super().__init__(code, message, status=400)
        # Set only when the signature was good but the link is too old: the page
        # can then offer a new link to that address without asking for it.
        self.expired_email = expired_email


class Unconfirmed(FlowError):
    """The credentials are right but the address is not proven yet (``login.unconfirmed``).

    ``proof`` is for the browser that got this far (flows/address_proof.py): the
    confirmation link, opened there, then keeps what this browser signed in with.
    """

    def __init__(self, message: str, *, proof: str) -> None:
        super().__init__("login.unconfirmed", message, status=403)
        self.proof = proof


class ReauthRequired(FlowError):
    """``account.reauth_required``: this needs a sign-in more recent than the reader's.

    ``then`` names what to carry on with once the reader proved it is them again
    (``"delete"``, ``"email"``, ``"unlink:<id>"``, ``"link:<provider>"``); the views
    turn this error into the way to /account/reauth and back.
    """

    def __init__(self, then: str) -> None:
        super().__init__("account.reauth_required",
                         _l("For your safety, confirm it's you before you do that."), status=401)
        self.then = then
