"""How one message leaves the building: SMTP through Flask-Mail, or the console in development."""

from __future__ import annotations

import smtplib
import sys

from flask import current_app
from flask_mail import Connection, Message

from auth_service.extensions import mail
from auth_service.models import OutboxMessage


class _TimedConnection(Connection):
    """Flask-Mail's connection with a socket timeout, so a hung SMTP server cannot stall the worker.

    Flask-Mail 0.10 opens ``smtplib.SMTP`` without a timeout; this is its
    ``configure_host`` with one added.
    """

    def __init__(self, state: object, timeout: float) -> None:
        super().__init__(state)  # type: ignore[arg-type]
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP:
        state = self.mail
        factory = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = factory(state.server, state.port, timeout=self.timeout)
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host


def open_connection() -> Connection | None:
    """An SMTP connection to use as a context manager, or None with the console backend."""
    if current_app.config["MAIL_BACKEND"] == "console":
        return None
    return _TimedConnection(current_app.extensions["mail"], current_app.config["MAIL_TIMEOUT"])


def send(message: OutboxMessage, connection: Connection | None) -> None:
    """Deliver ``message`` on ``connection`` (None: print it); raises on any failure."""
    if connection is None:
        _print(message)
        return
    outgoing = Message(
        subject=message.subject,
        recipients=[message.to_address],
        body=message.body_text,
        html=message.body_html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
    )
    connection.send(outgoing)


def _print(message: OutboxMessage) -> None:
    # The console backend is for development: the reader of the terminal is the
    # developer, who needs the link. It is refused in production (config.py).
    rule = "-" * 72
    sys.stdout.write(
        f"\n{rule}\nTo: {message.to_address}\nSubject: {message.subject}\n\n"
        f"{message.body_text}\n{rule}\n"
    )
    sys.stdout.flush()


__all__ = ["mail", "open_connection", "send"]
