"""Sign-out that reaches every site: RP-initiated logout, and Back-Channel Logout 1.0 for every
way a session ends, delivered by the worker (retried, never blocking the sign-out).

The logout tokens are checked by pyoidc's BackChannelLogoutRequest (signature
against the provider's JWKS, issuer, audience, the event, no nonce), as a
site built on it would.
"""

from __future__ import annotations

import time

import pytest
import requests
from oic.oic.message import BackChannelLogoutRequest

from auth_service.mail import worker
from tests.conftest import free_port
from tests.oidc_support import (  # base, port, reader, settings, site: fixtures
    EMAIL,
    RP,
    LogoutReceiver,
    Reader,
    RelyingParty,
    base,
    port,
    query_of,
    reader,
    register,
    serve_on,
    settings,
    sign_in_through,
    site,
)
from tests.social_support import serve

HOME = "https://rp.example/"


def drain(app):
    with app.app_context():
        return worker.drain_all(app)["back-channel logouts"]


@pytest.fixture
def receiver():
    handler = LogoutReceiver()
    with serve(handler) as url:
        handler.url = url + "/backchannel-logout"
        yield handler


@pytest.fixture
def listening(app, receiver):
    return register(app, "Red Africa", redirect_uri=RP, first_party=True,
                    backchannel_logout_uri=receiver.url, post_logout_redirect_uris=[HOME])


def signed_in_at_site(base, reader, registration):
    rp = RelyingParty(base, registration)
    response, _state = sign_in_through(rp, reader)
    return rp, rp.exchange(response)


def verified_logout(rp, token, base, skew=0):
    message = BackChannelLogoutRequest(logout_token=token)
    message.verify(keyjar=rp.client.keyjar, aud=rp.registration["client_id"], iss=base,
                   skew=skew)
    return message["logout_token"]


def session_status(reader):
    return reader.get("/api/session").status_code


def test_signing_out_on_the_service_reaches_the_site(app, base, reader, listening, receiver):
    rp, tokens = signed_in_at_site(base, reader, listening)
    page = reader.get("/logout")
    reader.post("/logout", {"csrf_token": reader.csrf(page), "return_to": ""})
    assert session_status(reader) == 401
    assert receiver.tokens() == []  # nothing is sent by the request itself
    report = drain(app)
    assert report.sent == 1
    [token] = receiver.tokens()
    logout = verified_logout(rp, token, base)
    assert logout["sid"] == tokens["id_token"]["sid"]
    assert logout["sub"] == tokens["id_token"]["sub"]
    assert "nonce" not in logout
    # Tokens for the session stop working; a second pass sends nothing again.
    info = requests.get(f"{base}/oauth/userinfo", timeout=5,
                        headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 401
    assert drain(app).sent == 0 and len(receiver.tokens()) == 1


def test_a_site_without_a_backchannel_uri_is_not_called(app, base, reader, site, receiver):
    signed_in_at_site(base, reader, site)
    page = reader.get("/logout")
    reader.post("/logout", {"csrf_token": reader.csrf(page), "return_to": ""})
    assert drain(app).handled == 0


def _revoke_from_account(app, sid, other):
    other.post(f"/account/sessions/{sid}/revoke", {"csrf_token": other.csrf(
        other.get("/account"))})


def _sign_out_everywhere(app, sid, other):
    other.post("/account/sessions/revoke-all", {"csrf_token": other.csrf(other.get("/account"))})


def _password_change(app, sid, other):
    from tests.conftest import PASSWORD

    other.post("/account/password", {"csrf_token": other.csrf(other.get("/account")),
                                     "current_password": PASSWORD,
                                     "new_password": "a brand new passphrase 42"})


def _disable(app, sid, other):
    from auth_service.flows import admin

    with app.app_context():
        admin.set_disabled(admin.get_account(EMAIL), True)


def _delete(app, sid, other):
    from auth_service.flows import admin

    with app.app_context():
        admin.delete_account(admin.get_account(EMAIL))


def _admin_revoke(app, sid, other):
    from auth_service.flows import admin

    with app.app_context():
        admin.revoke_sessions(admin.get_account(EMAIL))


@pytest.mark.parametrize("end", [_revoke_from_account, _sign_out_everywhere, _password_change,
                                 _disable, _delete, _admin_revoke],
                         ids=["revoke-from-account", "sign-out-everywhere", "password-change",
                              "disable", "delete", "cli-revoke-sessions"])
def test_every_way_a_session_ends_reaches_the_site(app, base, reader, listening, receiver, end):
    rp, tokens = signed_in_at_site(base, reader, listening)
    other = Reader(base)  # the same reader on another device, or an admin
    other.sign_in(EMAIL)
    end(app, tokens["id_token"]["sid"], other)
    assert session_status(reader) == 401
    drain(app)
    sids = {verified_logout(rp, token, base)["sid"] for token in receiver.tokens()}
    assert tokens["id_token"]["sid"] in sids


def test_a_password_reset_reaches_the_site(app, base, reader, listening, receiver, mailbox,
                                           deliver):
    rp, tokens = signed_in_at_site(base, reader, listening)
    other = Reader(base)
    page = other.get("/password/forgot")
    other.post("/password/forgot", {"csrf_token": other.csrf(page), "email": EMAIL})
    deliver()
    link = mailbox.link(EMAIL, "/password/reset/")
    page = other.get(link)
    other.post(link, {"csrf_token": other.csrf(page), "password": "a brand new passphrase 42"})
    assert session_status(reader) == 401
    drain(app)
    assert [verified_logout(rp, t, base)["sid"] for t in receiver.tokens()] == [
        tokens["id_token"]["sid"]]


def test_a_receiver_that_is_down_gets_it_later(app, base, reader, clock):
    down = free_port()
    registration = register(app, "Red Africa", redirect_uri=RP, first_party=True,
                            backchannel_logout_uri=f"http://127.0.0.1:{down}/bc")
    rp, tokens = signed_in_at_site(base, reader, registration)
    page = reader.get("/logout")
    started = time.monotonic()
    reader.post("/logout", {"csrf_token": reader.csrf(page), "return_to": ""})
    assert time.monotonic() - started < 2
    report = drain(app)
    assert (report.sent, report.retrying) == (0, 1)
    assert drain(app).handled == 0  # waits for its backoff
    receiver = LogoutReceiver()
    with serve_on(receiver, down):
        clock.advance(minutes=2)
        assert drain(app).sent == 1
    [token] = receiver.tokens()
    # (skew: the service's clock moved two minutes ahead, pyoidc's did not)
    assert verified_logout(rp, token, base, skew=300)["sid"] == tokens["id_token"]["sid"]


def test_a_receiver_that_answers_an_error_is_retried(app, base, reader, listening, receiver,
                                                     clock):
    signed_in_at_site(base, reader, listening)
    receiver.status = 500
    page = reader.get("/logout")
    reader.post("/logout", {"csrf_token": reader.csrf(page), "return_to": ""})
    assert drain(app).retrying == 1
    receiver.status = 200
    clock.advance(minutes=2)
    assert drain(app).sent == 1
    assert len(receiver.tokens()) == 2


def test_signing_out_does_not_wait_for_a_slow_site(app, base, reader, listening, receiver):
    signed_in_at_site(base, reader, listening)
    receiver.delay = 3
    page = reader.get("/logout")
    started = time.monotonic()
    answer = reader.post("/logout", {"csrf_token": reader.csrf(page), "return_to": ""})
    assert answer.status_code == 303
    assert time.monotonic() - started < 1.5
    assert receiver.tokens() == []


def test_the_worker_command_sends_them(app, base, reader, listening, receiver, runner):
    signed_in_at_site(base, reader, listening)
    page = reader.get("/logout")
    reader.post("/logout", {"csrf_token": reader.csrf(page), "return_to": ""})
    result = runner.invoke(["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "back-channel logouts: sent 1" in result.output
    assert len(receiver.tokens()) == 1


# --- RP-initiated logout ------------------------------------------------------------------


def test_rp_initiated_logout_with_an_id_token_hint(app, base, reader, listening, receiver):
    _rp, tokens = signed_in_at_site(base, reader, listening)
    answer = reader.get(f"{base}/oauth/logout?" + requests.compat.urlencode({
        "id_token_hint": tokens["id_token"].jwt, "post_logout_redirect_uri": HOME,
        "state": "bye-1"}))
    assert answer.status_code == 302, reader.last_page
    assert answer.headers["Location"] == HOME + "?state=bye-1"
    assert session_status(reader) == 401
    drain(app)
    assert len(receiver.tokens()) == 1


def test_rp_initiated_logout_without_a_hint_asks_first(app, base, reader, listening):
    signed_in_at_site(base, reader, listening)
    url = f"{base}/oauth/logout?" + requests.compat.urlencode({
        "client_id": listening["client_id"], "post_logout_redirect_uri": HOME, "state": "s"})
    page = reader.get(url)
    assert page.status_code == 200 and "Sign out?" in reader.last_page
    assert "Red Africa" in reader.last_page
    assert session_status(reader) == 200  # a link alone signs nobody out
    answer = reader.post(url, {"csrf_token": reader.csrf(page)})
    assert answer.status_code == 302 and answer.headers["Location"] == HOME + "?state=s"
    assert session_status(reader) == 401


def test_an_unregistered_post_logout_uri_is_not_followed(app, base, reader, listening):
    _rp, tokens = signed_in_at_site(base, reader, listening)
    answer = reader.get(f"{base}/oauth/logout?" + requests.compat.urlencode({
        "id_token_hint": tokens["id_token"].jwt,
        "post_logout_redirect_uri": "https://evil.example/"}))
    assert answer.status_code == 200 and "Location" not in answer.headers
    assert "You are signed out" in reader.last_page
    assert session_status(reader) == 401


def test_someone_elses_id_token_hint_does_not_sign_this_reader_out(app, base, reader, listening,
                                                                  make_user):
    make_user("other@example.com")
    other = Reader(base)
    rp = RelyingParty(base, listening)
    url, _ = rp.authorization_url()
    login = other.get(url).headers["Location"]
    other.sign_in("other@example.com", login_url=login)
    others = rp.exchange(rp.callback(other.follow_to(other.get(url).headers["Location"], RP)))
    reader.sign_in(EMAIL)
    page = reader.get(f"{base}/oauth/logout?id_token_hint={others['id_token'].jwt}")
    assert page.status_code == 200 and "Sign out?" in reader.last_page
    assert session_status(reader) == 200


def test_a_forged_id_token_hint_is_a_page_not_a_redirect(app, base, reader, listening):
    reader.sign_in(EMAIL)
    answer = reader.get(f"{base}/oauth/logout?" + requests.compat.urlencode({
        "id_token_hint": "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
        "post_logout_redirect_uri": HOME}))
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert session_status(reader) == 200


def test_withdrawing_a_site_signs_the_reader_out_of_it(app, base, reader, listening, receiver):
    rp, tokens = signed_in_at_site(base, reader, listening)
    page = reader.get("/account/sessions")
    assert "Sites you signed in to" in reader.last_page and "Red Africa" in reader.last_page
    action = page.text.split('action="/account/sites/')[1].split('"')[0]
    answer = reader.post(f"/account/sites/{action}", {"csrf_token": reader.csrf(page)})
    assert answer.status_code == 303
    reader.get(answer.headers["Location"])
    assert "no longer has access" in reader.last_page
    assert "Sites you signed in to" not in reader.last_page
    info = requests.get(f"{base}/oauth/userinfo", timeout=5,
                        headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 401
    drain(app)
    assert [verified_logout(rp, t, base)["sid"] for t in receiver.tokens()] == [
        tokens["id_token"]["sid"]]
    assert session_status(reader) == 200  # still signed in to the service itself
