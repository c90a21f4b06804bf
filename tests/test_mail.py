"""The mail outbox: written with the change, sent by the worker, retried, never sent twice."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from auth_service.mail import worker
from auth_service.models import OutboxMessage, User
from tests.conftest import CSRF, PASSWORD, register

SUBJECT = "Confirm your email address for Red Africa Travel"


def outbox(db_session) -> list[OutboxMessage]:
    """The outbox as it is in the database now."""
    db_session.expire_all()
    return list(db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def only_message(db_session) -> OutboxMessage:
    rows = outbox(db_session)
    assert len(rows) == 1, rows
    return rows[0]


def test_smtp_outage_loses_nothing_and_sends_once(browser, mailbox, deliver, runner, db_session,
                                                  clock):
    mailbox.stop()
    response = register(browser, "outage@example.com")
    assert response.status_code == 200
    assert "Check your email" in browser.last_page
    assert db_session.scalar(select(func.count()).select_from(User)
                             .where(User.email == "outage@example.com")) == 1
    message = only_message(db_session)
    assert (message.status, message.to_address, message.attempts) == (
        "pending", "outage@example.com", 0)
    assert message.subject == SUBJECT

    # The worker tries, fails, and schedules a retry one backoff step later.
    report = deliver()
    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    message = only_message(db_session)
    assert message.status == "pending"
    assert message.attempts == 1
    assert message.last_error
    assert message.sent_at is None
    assert message.next_attempt_at == clock.now() + timedelta(minutes=1)
    assert message.body_text and "/confirm/" in message.body_text

    # A second failure doubles the wait.
    clock.advance(minutes=1, seconds=1)
    assert deliver().retrying == 1
    message = only_message(db_session)
    assert message.attempts == 2
    assert message.next_attempt_at == clock.now() + timedelta(minutes=2)

    # The server is back, but the retry is not due yet: nothing is sent early.
    mailbox.start()
    assert deliver().sent == 0
    assert mailbox.messages == []

    clock.advance(minutes=2, seconds=1)
    result = runner.invoke(["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 1, retrying 0, failed 0" in result.output
    assert len(mailbox.to("outage@example.com")) == 1
    assert mailbox.subject(mailbox.last("outage@example.com")) == SUBJECT
    message = only_message(db_session)
    assert message.status == "sent"
    assert message.attempts == 3
    assert message.sent_at == clock.now()

    again = runner.invoke(["worker", "--once"])
    assert again.exit_code == 0
    assert "sent 0" in again.output
    clock.advance(days=1)
    assert deliver().sent == 0
    assert len(mailbox.messages) == 1

    # The link that finally arrived works.
    path = mailbox.link("outage@example.com", "/confirm/").removeprefix("http://auth.test")
    assert browser.submit(path, {}).status_code == 200
    assert browser.login("outage@example.com").status_code == 303


@pytest.mark.settings(MAIL_MAX_ATTEMPTS=2)
def test_message_is_marked_failed_after_max_attempts(browser, mailbox, deliver, db_session,
                                                     clock):
    mailbox.stop()
    register(browser, "doomed@example.com")
    assert deliver().retrying == 1
    clock.advance(minutes=5)
    report = deliver()
    assert (report.sent, report.retrying, report.failed) == (0, 0, 1)
    message = only_message(db_session)
    assert message.status == "failed"
    assert message.attempts == 2
    assert message.last_error

    # Given up for good: no further tries, even once the server is back.
    mailbox.start()
    clock.advance(days=2)
    assert deliver().handled == 0
    assert mailbox.messages == []
    assert only_message(db_session).status == "failed"


def test_backoff_grows_and_is_capped_at_an_hour(browser, mailbox, deliver, db_session, clock):
    mailbox.stop()
    register(browser)
    waits = []
    for _ in range(8):
        deliver()
        message = only_message(db_session)
        waits.append(message.next_attempt_at - clock.now())
        clock.current = message.next_attempt_at
    minutes = [int(wait.total_seconds() // 60) for wait in waits[:7]]
    assert minutes == [1, 2, 4, 8, 16, 32, 60]
    assert only_message(db_session).status == "failed"  # MAIL_MAX_ATTEMPTS defaults to 8


def test_bodies_are_blanked_after_sending(browser, mailbox, deliver, db_session):
    register(browser)
    pending = only_message(db_session)
    assert "http://auth.test/confirm/" in pending.body_text
    assert "http://auth.test/confirm/" in pending.body_html
    assert deliver().sent == 1
    sent = only_message(db_session)
    assert sent.status == "sent"
    assert sent.sent_at is not None
    assert sent.body_text is None
    assert sent.body_html is None
    # What remains is enough for an operator: who, what, when.
    assert (sent.to_address, sent.subject) == ("new@example.com", SUBJECT)
    assert sent.template == "verification/confirm"


def test_emails_have_a_text_and_an_html_part(browser, mailbox, deliver):
    register(browser)
    deliver()
    message = mailbox.last("new@example.com")
    # Flask-Mail wraps the alternatives in multipart/mixed; a mail client picks one of the two.
    types = [part.get_content_type() for part in message.walk()]
    assert "multipart/alternative" in types
    assert types.count("text/plain") == 1
    assert types.count("text/html") == 1
    assert message["From"] == "accounts@auth.test"
    text = mailbox.text(message)
    body_html = mailbox.html(message)
    assert message.get_body(preferencelist=("plain",)).get_content_type() == "text/plain"
    assert message.get_body(preferencelist=("html",)).get_content_type() == "text/html"
    link = mailbox.link("new@example.com", "/confirm/")
    assert link in text
    assert f'href="{link}"' in body_html
    assert "<a " not in text
    assert "Red Africa Travel" in text and "Red Africa Travel" in body_html


def test_links_come_from_base_url_not_the_host_header(client, mailbox, deliver):
    for index, headers in enumerate(({"Host": "evil.example"},
                                     {"X-Forwarded-Host": "evil.example"})):
        email = f"host{index}@example.com"
        page = client.get("/register", headers=headers)
        token = CSRF.search(page.get_data(as_text=True)).group(1)
        response = client.post("/register", headers=headers, data={
            "csrf_token": token, "email": email, "password": PASSWORD})
        assert response.status_code == 200
        assert deliver().sent == 1
        message = mailbox.last(email)
        assert mailbox.link(email, "/confirm/").startswith("http://auth.test/confirm/")
        assert "evil.example" not in mailbox.text(message)
        assert "evil.example" not in mailbox.html(message)


@pytest.mark.settings(MAIL_BACKEND="console")
def test_console_backend_prints_and_marks_sent(browser, mailbox, deliver, db_session, capsys):
    register(browser, "dev@example.com")
    capsys.readouterr()
    report = deliver()
    assert report.sent == 1
    printed = capsys.readouterr().out
    assert "To: dev@example.com" in printed
    assert f"Subject: {SUBJECT}" in printed
    assert "http://auth.test/confirm/" in printed
    assert mailbox.messages == []  # nothing went through SMTP
    message = only_message(db_session)
    assert message.status == "sent"
    assert message.body_text is None
    assert deliver().sent == 0
    assert capsys.readouterr().out == ""


def test_outbox_row_is_written_with_the_change_only(browser, mailbox, deliver, db_session):
    # A refused registration writes no account and no email.
    refused = browser.submit("/register", {"email": "weak@example.com", "password": "short"})
    assert refused.status_code == 400
    assert outbox(db_session) == []
    register(browser, "ok@example.com")
    assert [m.to_address for m in outbox(db_session)] == ["ok@example.com"]


def test_the_worker_touches_its_heartbeat_after_every_pass(app, tmp_path):
    # What the compose file's health check reads: a fresh file means a working worker.
    beat = tmp_path / "heartbeat"
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(app, 0.05, stop),
                              kwargs={"heartbeat": beat})
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not beat.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        first = beat.stat().st_mtime_ns
        while beat.stat().st_mtime_ns == first and time.monotonic() < deadline:
            time.sleep(0.02)
        assert beat.stat().st_mtime_ns > first
    finally:
        stop.set()
        thread.join(5)
