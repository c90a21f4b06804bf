"""GET /api/session is answered in front of Flask (views/session_check.py), and that answer is
the very one Flask's own view gives: same status, same headers in the same order, same bytes."""

from __future__ import annotations

import hashlib

import pytest
from werkzeug.test import Client

from auth_service.extensions import db
from auth_service.flows import session_check
from auth_service.models import User
from auth_service.views.session_check import Mount

COOKIE = "auth_session"


@pytest.fixture
def token(browser, make_user) -> str:
    make_user("reader@example.com", name="Ann Reader")
    browser.login("reader@example.com")
    return browser.client.get_cookie(COOKIE).value


def bearer_status(client, token: str) -> int:
    return client.get("/api/session", headers={"Authorization": f"Bearer {token}"}).status_code


def both(app, **request) -> tuple[tuple, tuple]:
    """The answer as served (through the mount) and as Flask's own view gives it."""
    mount = app.wsgi_app
    assert isinstance(mount, Mount), "create_app no longer mounts the session check"
    answers = []
    for wsgi in (mount, mount.flask_app):
        response = Client(wsgi).get("/api/session", **request)
        answers.append((response.status, list(response.headers.items()), response.get_data()))
    return answers[0], answers[1]


@pytest.fixture
def hooks(app) -> list[str]:
    """What Flask's hooks saw: they run for every request Flask handles."""
    seen: list[str] = []
    app.before_request(lambda: seen.append("before"))
    app.after_request(lambda response: seen.append("after") or response)
    return seen


def test_a_get_is_answered_without_flask(app, hooks, token):
    seen = hooks
    seen.clear()  # the sign-in that made the token went through Flask
    client = app.test_client()
    answer = client.get("/api/session", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert seen == [], "GET /api/session went through Flask"
    # The control: the same request as HEAD is Flask's, and the hooks see it.
    assert client.head("/api/session").status_code == 401
    assert seen == ["before", "after"]


def test_a_signed_in_answer_is_the_same_both_ways(app, token):
    served, flask = both(app, headers={"Authorization": f"Bearer {token}"})
    assert served[0] == "200 OK"
    assert served == flask


def test_a_refusal_is_the_same_both_ways(app):
    served, flask = both(app, headers={"X-Forwarded-Proto": "https",
                                       "X-Forwarded-Host": "trusted.example",
                                       "X-Forwarded-Uri": "/members?a=1&b=2"})
    assert served[0] == "401 UNAUTHORIZED"
    assert served == flask


@pytest.mark.parametrize("origin", ["https://trusted.example", "https://evil.example"])
def test_cors_answers_are_the_same_both_ways(app, token, origin):
    served, flask = both(app, headers={"Cookie": f"{COOKIE}={token}", "Origin": origin})
    assert served == flask
    assert ("Access-Control-Allow-Origin" in dict(served[1])) is (origin.startswith("https://t"))


@pytest.mark.settings(BASE_URL="https://login.example.com")  # HSTS on as well
def test_answers_over_https_are_the_same_both_ways(app):
    served, flask = both(app)
    assert ("Strict-Transport-Security", "max-age=31536000") in served[1]
    assert served == flask


@pytest.mark.settings(DATABASE_URL="sqlite:////nonexistent-dir/never/auth.db")
def test_a_database_outage_is_the_same_json_503_both_ways(app):
    served, flask = both(app, headers={"Authorization": "Bearer some-token"})
    assert served[0] == "503 SERVICE UNAVAILABLE"
    assert b"unavailable" in served[2] and b"Traceback" not in served[2]
    assert served == flask


def test_nothing_else_is_taken_from_flask(app, token):
    client = app.test_client()
    assert client.get("/api/session/").status_code == 404  # not the endpoint: Flask's 404
    assert client.post("/api/session").status_code == 405
    assert client.options("/api/session").status_code == 204


def test_the_check_reads_what_sqlalchemy_reads(browser, make_user, app, db_session):
    # /api/session reads its row on the driver's cursor (flows/session_check._read), not
    # through SQLAlchemy's execution: every column must come back the same, typed alike.
    user_id = make_user("zoë@example.com", name="Zoë Ünicode")
    user = db_session.get(User, user_id)
    user.is_admin, user.avatar_url = True, "https://example.com/z.png"
    db_session.commit()
    browser.login("zoë@example.com")
    token_hash = hashlib.sha256(browser.client.get_cookie(COOKIE).value.encode()).hexdigest()
    with app.app_context(), db.engine.connect() as connection:
        fast = session_check._read(connection, token_hash)
        slow = connection.execute(session_check._CHECK, {"token_hash": token_hash}).first()
        assert session_check._read(connection, "0" * 64) is None
    assert fast == tuple(slow)
    assert [type(value) for value in fast] == [type(value) for value in slow]
    assert fast.expires_at.utcoffset() is not None  # aware UTC, as the models give it
    assert (fast.email, fast.display_name, fast.is_admin) == ("zoë@example.com", "Zoë Ünicode",
                                                              True)


def test_a_connection_the_database_dropped_is_replaced(browser, make_user, app, client):
    make_user("reader@example.com")
    # The connections check() keeps between requests can die under it (a database
    # restart, a failover): the next check opens a new one instead of failing.
    browser.login("reader@example.com")
    token = browser.client.get_cookie(COOKIE).value
    assert bearer_status(client, token) == 200
    with app.app_context():
        kept = session_check._kept[db.engine]
        assert kept, "the check keeps its connection for the next request"
        for connection in kept:
            connection.connection.dbapi_connection.close()  # as a server-side disconnect leaves it
        check = session_check.check(token)
        assert check is not None and check.email == "reader@example.com"
        assert session_check.check("not-" + token) is None
    assert bearer_status(client, token) == 200
