"""An address that is not Latin-1 (valid, and accepted at registration) must not break
the check content sites make, on the fast path, the slow path, or under gunicorn."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from auth_service import clock, create_app
from auth_service.extensions import db
from auth_service.models import User
from auth_service.security.passwords import hash_password
from tests.conftest import FAST_ARGON2, PASSWORD
from tests.live import SECRET, Browser, live_service

CYRILLIC = "кnown@example.com"  # the first letter is Cyrillic "ka"
LATIN1 = "zoë@example.com"  # Latin-1, once sent as raw bytes


@pytest.mark.parametrize("address", [CYRILLIC, LATIN1, "odd%sign@example.com"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])  # GET takes the fast path, HEAD Flask's
def test_the_email_header_is_ascii_and_decodes_to_the_address(app, browser, make_user,
                                                             address, method):
    make_user(address)
    browser.login(address)
    token = browser.client.get_cookie("auth_session").value
    response = app.test_client().open("/api/session", method=method,
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    header = response.headers["X-Auth-Email"]
    assert header.isascii()
    assert unquote(header) == address
    if method == "GET":
        assert response.json["user"]["email"] == address


def test_an_ascii_address_is_sent_unchanged(app, browser, make_user):
    make_user("ann.o'hara+news@example.com")
    browser.login("ann.o'hara+news@example.com")
    token = browser.client.get_cookie("auth_session").value
    response = app.test_client().get("/api/session",
                                     headers={"Authorization": f"Bearer {token}"})
    assert response.headers["X-Auth-Email"] == "ann.o'hara+news@example.com"


def test_gunicorn_answers_for_a_reader_whose_address_is_not_latin1(tmp_path):
    with live_service(tmp_path, gunicorn_workers=1) as service:
        app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": SECRET,
                          "DATABASE_URL": f"sqlite:///{tmp_path / 'auth.db'}", **FAST_ARGON2})
        with app.app_context():
            db.session.add(User(email=CYRILLIC, password_hash=hash_password(PASSWORD),
                                email_confirmed_at=clock.now()))
            db.session.commit()
            db.engine.dispose()
        reader = Browser()
        reader.sign_in(service, email=CYRILLIC)
        page = reader.open(service.base + "/api/session")
        assert page.status == 200
        assert unquote(page.headers["X-Auth-Email"]) == CYRILLIC
