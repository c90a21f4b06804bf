"""What a Python content site imports to know who is reading.

The content site never sees passwords or session rows: it forwards the
``auth_session`` cookie its reader's browser sent to the sign-in service and
trusts the answer. Three ways in: :class:`SessionClient` (any Python code),
:class:`AuthSession` (a Flask extension setting ``g.reader``) and
:class:`AuthMiddleware` (plain WSGI, any framework); :class:`TokenVerifier`
checks the service's signed session token offline (joserfc), and
:class:`BackchannelLogout` receives the service's logout tokens. No part of the
service itself is imported: client_session.py (the check, standard library
only), client_tokens.py (tokens) and client_web.py (Flask and WSGI) are all a
site runs.
"""

from __future__ import annotations

from auth_service.client_session import (
    Reader,
    SessionClient,
    TokenSessionClient,
    cookie_value,
    login_url,
    logout_url,
    step_up_url,
)
from auth_service.client_tokens import BackchannelLogout, InvalidToken, TokenVerifier
from auth_service.client_web import (
    AuthMiddleware,
    AuthSession,
    reader_required,
    second_factor_required,
)

__all__ = ["AuthMiddleware", "AuthSession", "BackchannelLogout", "InvalidToken", "Reader",
           "SessionClient", "TokenSessionClient", "TokenVerifier", "cookie_value", "login_url",
           "logout_url", "reader_required", "second_factor_required", "step_up_url"]
