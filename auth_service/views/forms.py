"""The HTML forms (Flask-WTF: CSRF on every one).

Field names (``email``, ``password``, ``display_name``, ``code``…) are part of the
service's contract with the sites and scripts that post to it: never rename one.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from auth_service.flows.account import MAX_NAME_LENGTH
from auth_service.security import passwords
from auth_service.security.redirects import MAX_LENGTH as MAX_RETURN_TO

MAX_EMAIL = 320


EMAIL_LABEL = _l("Email address")


def _email(label: str | LazyString = EMAIL_LABEL, field_id: str | None = None,
           autocomplete: str = "email") -> StringField:
    return StringField(label, id=field_id, validators=[
        DataRequired(_l("Enter your email address.")),
        Length(max=MAX_EMAIL, message=_l("That is too long for an email address.")),
    ], render_kw={"autocomplete": autocomplete, "inputmode": "email", "autocapitalize": "none",
                  "spellcheck": "false", "maxlength": MAX_EMAIL})


def _password(label: str | LazyString, autocomplete: str) -> PasswordField:
    return PasswordField(label, validators=[
        DataRequired(_l("Enter a password.")),
        Length(max=passwords.MAX_LENGTH,
               message=_l("Use at most %(num)d characters.", num=passwords.MAX_LENGTH)),
    ], render_kw={"autocomplete": autocomplete, "maxlength": passwords.MAX_LENGTH})


def _return_to() -> HiddenField:
    return HiddenField(validators=[Optional(), Length(max=MAX_RETURN_TO)])


class LoginForm(FlaskForm):
    # "webauthn": the browser offers the reader's passkeys in the address field's autofill.
    email = _email(autocomplete="username webauthn")
    password = _password(_l("Password"), "current-password")
    return_to = _return_to()


class RegisterForm(FlaskForm):
    email = _email()
    password = _password(_l("Password"), "new-password")
    display_name = StringField(_l("Name (optional)"), validators=[
        Optional(),
        Length(max=MAX_NAME_LENGTH,
               message=_l("Use at most %(num)d characters.", num=MAX_NAME_LENGTH)),
    ], render_kw={"autocomplete": "name", "maxlength": MAX_NAME_LENGTH})
    return_to = _return_to()


class EmailForm(FlaskForm):
    """Forgot password and resend confirmation: just an address."""

    email = _email()


class NewPasswordForm(FlaskForm):
    password = _password(_l("New password"), "new-password")


class ChangePasswordForm(FlaskForm):
    current_password = _password(_l("Current password"), "current-password")
    new_password = _password(_l("New password"), "new-password")


class ChangeEmailForm(FlaskForm):
    # Its own id: the account page holds more than one field named "email".
    email = _email(_l("New email address"), "new_email")


class DeleteAccountForm(FlaskForm):
    """Typing one's own address is the "are you sure" that a stray click cannot give."""

    email = StringField(_l("Your email address"), id="delete_email", validators=[DataRequired()],
                        render_kw={"autocomplete": "off", "spellcheck": "false"})


class ReauthForm(FlaskForm):
    password = _password(_l("Password"), "current-password")


class ConfirmForm(FlaskForm):
    """The confirmation page's button, and the password when this browser did not choose it."""

    password = PasswordField(_l("Password"), validators=[
        Optional(),
        Length(max=passwords.MAX_LENGTH,
               message=_l("Use at most %(num)d characters.", num=passwords.MAX_LENGTH)),
    ], render_kw={"autocomplete": "current-password", "maxlength": passwords.MAX_LENGTH})


class CodeForm(FlaskForm):
    """A second factor's code: six digits from the app, or a recovery code."""

    code = StringField(_l("Code"), validators=[
        DataRequired(_l("Enter the code.")),
        Length(max=64, message=_l("That is too long for a code.")),
    ], render_kw={"autocomplete": "one-time-code", "autocapitalize": "none",
                  "spellcheck": "false", "maxlength": 64})


class ButtonForm(FlaskForm):
    """A form that is only a button (confirm, sign out): the CSRF token is its whole content."""

    return_to = _return_to()
