"""Continue with Facebook and with GitHub: the provider contract for each, and each one's quirks.

The fakes (tests/provider_fakes.py) speak Facebook's OAuth dialog, token endpoint
and Graph ``/me``, and GitHub's OAuth App flow, ``/user`` and ``/user/emails``,
checking the client secret, the redirect URI, single-use codes and PKCE as the
real ones do. The service is configured for them as an operator would configure
the real ones, only with AUTH_FACEBOOK_*_URL / AUTH_GITHUB_*_URL pointed here.
"""

from __future__ import annotations

import re
import socket
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from auth_service.models import AuditEvent, Identity, Session, User
from tests.provider_contract import ProviderContract, count, signed_in_email
from tests.provider_fakes import FakeFacebook, FakeGitHub, approve, cancel, parse_form, s256
from tests.social_support import local_path, serve

BASE = "http://auth.test"


def _closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/login/oauth/access_token"


NOTHING_LISTENS = _closed_port_url()


@pytest.fixture(scope="module")
def facebook_server():
    fake = FakeFacebook(client_id="fb-app-id", client_secret="fb-app-secret",
                        redirect_uri=f"{BASE}/login/facebook/callback")
    with serve(fake.wsgi()) as base:
        fake.base = base
        yield fake
        fake.release()


@pytest.fixture(scope="module")
def github_server():
    fake = FakeGitHub(client_id="gh-client-id", client_secret="gh-client-secret",
                      redirect_uri=f"{BASE}/login/github/callback")
    with serve(fake.wsgi()) as base:
        fake.base = base
        yield fake
        fake.release()


@pytest.fixture
def facebook(facebook_server):
    facebook_server.reset()
    yield facebook_server
    facebook_server.release()  # a test that made the token endpoint hang must not hold others


@pytest.fixture
def github(github_server):
    github_server.reset()
    yield github_server
    github_server.release()


@pytest.fixture
def settings(settings, facebook_server, github_server):  # overrides conftest's
    fb, gh = facebook_server.base, github_server.base
    return {
        "FACEBOOK_CLIENT_ID": "fb-app-id", "FACEBOOK_CLIENT_SECRET": "fb-app-secret",
        "FACEBOOK_AUTHORIZE_URL": f"{fb}/v23.0/dialog/oauth",
        "FACEBOOK_TOKEN_URL": f"{fb}/v23.0/oauth/access_token",
        "FACEBOOK_API_URL": f"{fb}/v23.0/",
        "GITHUB_CLIENT_ID": "gh-client-id", "GITHUB_CLIENT_SECRET": "gh-client-secret",
        "GITHUB_AUTHORIZE_URL": f"{gh}/login/oauth/authorize",
        "GITHUB_TOKEN_URL": f"{gh}/login/oauth/access_token",
        "GITHUB_API_URL": f"{gh}/",
        **settings,
    }


def start(browser, provider: str, return_to: str | None = None) -> str:
    """Click "Continue with <provider>"; returns the provider's authorize URL."""
    response = browser.get(f"/login/{provider}"
                           + (f"?return_to={return_to}" if return_to else ""))
    assert response.status_code == 302, browser.last_page
    return response.headers["Location"]


def continue_with(browser, provider: str, user: str, return_to: str | None = None):
    """The whole round trip, the reader approving as ``user``; returns the callback's answer."""
    callback = approve(start(browser, provider, return_to), user)
    assert callback.startswith(f"{BASE}/login/{provider}/callback?"), callback
    return browser.get(local_path(callback))



def confirm_by_email(browser, mailbox, deliver, address: str) -> None:
    """Open the confirmation link from the last email to ``address`` and press the button."""
    deliver()
    link = local_path(mailbox.link(address, "/confirm/"))
    browser.get(link)
    assert "Confirm my address" in browser.last_page
    assert browser.submit(link, {}).status_code == 200


# --- Facebook ---------------------------------------------------------------------------


class FakeAdapter:
    """The provider contract's hands on a fake: approve, cancel, go down or slow."""

    def __init__(self, fake: FakeFacebook | FakeGitHub) -> None:
        self.fake = fake

    def approve(self, authorize_url: str, key: str) -> str:
        return approve(authorize_url, key)

    def cancel(self, authorize_url: str) -> str:
        return cancel(authorize_url)

    def go_down(self) -> None:
        self.fake.token_outage = True

    def go_slow(self, seconds: float) -> None:
        self.fake.token_delay = seconds


class FacebookAdapter(FakeAdapter):
    """The provider contract's hands on the Facebook fake. Facebook never says it checked
    an address, so the service confirms every Facebook address by its own link."""

    name, label, vouches_for_email = "facebook", "Facebook", False

    def add(self, key: str, email: str, *, verified: bool = True) -> None:
        self.fake.add_user(key, key.title(), email=email)

    def change_email(self, key: str, email: str) -> None:
        self.fake.users[key].email = email


class TestFacebookContract(ProviderContract):
    @pytest.fixture
    def adapter(self, facebook):
        return FacebookAdapter(facebook)


class TestFacebookQuirks:
    def test_login_page_offers_facebook(self, browser):
        browser.get("/login")
        assert "Continue with Facebook" in browser.last_page
        assert 'href="/login/facebook"' in browser.last_page

    def test_dialog_request_is_what_facebook_documents(self, browser, facebook):
        query = parse_qs(urlsplit(start(browser, "facebook")).query)
        assert query["client_id"] == ["fb-app-id"]
        assert query["redirect_uri"] == [f"{BASE}/login/facebook/callback"]
        assert query["response_type"] == ["code"]
        assert "email" in query["scope"][0].replace(",", " ").split()
        assert len(query["state"][0]) >= 20
        assert query["code_challenge_method"] == ["S256"]
        assert len(query["code_challenge"][0]) >= 43

    def test_new_reader_gets_an_unconfirmed_account_and_a_confirmation_email(
            self, browser, facebook, db_session, deliver, mailbox):
        facebook.add_user("10001", "Ann Ndlovu", email="Ann@Example.com")
        response = continue_with(browser, "facebook", "10001",
                                 return_to="https://trusted.example/tito")
        # Not signed in until the address is confirmed: Facebook did not vouch for it.
        assert response.status_code == 403
        assert "Confirm your email address first" in browser.last_page
        assert signed_in_email(browser) is None

        user = db_session.scalar(select(User))
        assert user.email == "ann@example.com"
        # Facebook does not say it verified the address: not confirmed until the link is used.
        assert user.email_confirmed_at is None
        assert user.display_name == "Ann Ndlovu"
        # The large picture the service asked for, from picture.data.url.
        assert user.avatar_url == "https://scontent.fbcdn.example/10001-large.jpg"
        identity = db_session.scalar(select(Identity))
        assert (identity.provider, identity.subject, identity.user_id) == (
            "facebook", "10001", user.id)
        assert identity.email_verified is False
        assert count(db_session, Session) == 0

        deliver()
        assert mailbox.subjects("ann@example.com") == [
            "Confirm your email address for Red Africa Travel"]
        browser.submit(local_path(mailbox.link("ann@example.com", "/confirm/")), {})
        response = continue_with(browser, "facebook", "10001",
                                 return_to="https://trusted.example/tito")
        assert response.status_code == 303
        assert response.headers["Location"] == "https://trusted.example/tito"
        assert db_session.scalar(select(Session.method)) == "facebook"
        me = browser.get("/api/session").json["user"]
        assert (me["email"], me["email_verified"]) == ("ann@example.com", True)
        assert me["avatar_url"] == "https://scontent.fbcdn.example/10001-large.jpg"

        # What went over the wire: the code with its PKCE verifier, then the Graph call.
        exchange = facebook.token_requests[-1]["params"]
        assert exchange["client_secret"] == "fb-app-secret"
        assert exchange["redirect_uri"] == f"{BASE}/login/facebook/callback"
        assert exchange["code_verifier"]
        graph = facebook.api_requests[-1]
        assert graph["path"] == "/v23.0/me"
        assert graph["args"]["fields"] == "id,name,email,picture.type(large)"

    @pytest.mark.settings(FACEBOOK_TRUST_EMAIL="true")
    def test_trusted_facebook_email_is_verified(self, browser, facebook, db_session, deliver,
                                                mailbox):
        facebook.add_user("10002", "Ben", email="ben@example.com")
        assert continue_with(browser, "facebook", "10002").status_code == 303
        user = db_session.scalar(select(User))
        assert user.email_confirmed_at is not None
        assert db_session.scalar(select(Identity.email_verified)) is True
        assert browser.get("/api/session").json["user"]["email_verified"] is True
        deliver()
        assert mailbox.to("ben@example.com") == []

    def test_no_email_asks_for_one_confirms_it_then_signs_in(
            self, browser, facebook, db_session, deliver, mailbox):
        facebook.add_user("10003", "Cy Phone-Only")  # account made with a phone number
        response = continue_with(browser, "facebook", "10003")
        assert response.status_code == 303
        assert response.headers["Location"] == "/login/facebook/email"
        browser.get("/login/facebook/email")
        assert "One more step" in browser.last_page
        assert "Facebook didn't give us an email address" in browser.last_page
        assert signed_in_email(browser) is None
        assert count(db_session, User) == 0

        sent = browser.submit("/login/facebook/email", {"email": "cy@example.com"})
        assert sent.status_code == 200
        assert "Check your email" in browser.last_page
        assert "continue with Facebook again" in browser.last_page

        confirm_by_email(browser, mailbox, deliver, "cy@example.com")
        db_session.expire_all()
        assert db_session.scalar(select(User.email_confirmed_at)) is not None

        again = continue_with(browser, "facebook", "10003")
        assert again.status_code == 303
        assert signed_in_email(browser) == "cy@example.com"
        assert browser.get("/api/session").json["user"]["email_verified"] is True
        assert count(db_session, User) == 1
        assert db_session.scalar(select(Identity.subject)) == "10003"

    def test_typed_address_already_registered_gets_the_same_answer(
            self, app, browser, facebook, make_user, db_session, deliver, mailbox):
        owner = make_user("taken@example.com", confirmed=True)
        facebook.add_user("10004", "Someone")
        facebook.add_user("10005", "Someone Else")

        continue_with(browser, "facebook", "10004")
        browser.submit("/login/facebook/email", {"email": "taken@example.com"})
        taken_page = browser.last_page

        other = type(browser)(app.test_client())
        continue_with(other, "facebook", "10005")
        other.submit("/login/facebook/email", {"email": "fresh@example.com"})
        assert taken_page == other.last_page  # nothing tells the two apart
        assert "Check your email" in taken_page

        assert db_session.scalar(select(func.count()).select_from(Identity).where(
            Identity.user_id == owner)) == 0
        deliver()
        assert mailbox.subjects("taken@example.com") == [
            "Someone tried to create an account with your address at Red Africa Travel"]
        assert mailbox.link("taken@example.com", "/password/forgot")
        # Continuing with that Facebook account again still does not get into the account.
        response = continue_with(browser, "facebook", "10004")
        assert response.headers["Location"] == "/login/facebook/email"
        assert signed_in_email(browser) is None

    @pytest.mark.parametrize("how", ["typed", "unverified-on-facebook"])
    def test_owner_who_resets_the_password_locks_the_squatter_out(
            self, app, browser, facebook, db_session, deliver, mailbox, how):
        # Pre-account hijacking: a Facebook account claims someone else's address, either
        # typed on "One more step" or as an address Facebook gives but we cannot trust.
        if how == "typed":
            facebook.add_user("10010", "Mallory")
            continue_with(browser, "facebook", "10010")
            browser.submit("/login/facebook/email", {"email": "victim@example.com"})
        else:
            facebook.add_user("10010", "Mallory", email="victim@example.com")
            # The squatter is not even let in before the address is confirmed.
            assert continue_with(browser, "facebook", "10010").status_code == 403
        # The address's owner never registered; they use "Reset your password" and set one.
        owner = type(browser)(app.test_client())
        owner.submit("/password/forgot", {"email": "victim@example.com"})
        deliver()
        reset = local_path(mailbox.link("victim@example.com", "/password/reset/"))
        assert owner.submit(reset, {"password": "the owner's own new password"}).status_code == 200
        # The Facebook account that never proved the address no longer gets in.
        attacker = type(browser)(app.test_client())
        response = continue_with(attacker, "facebook", "10010")
        assert signed_in_email(attacker) is None
        if how == "typed":
            assert response.headers["Location"] == "/login/facebook/email"
        else:
            assert response.status_code == 409  # the address now has a confirmed owner
        assert count(db_session, Identity) == 0
        assert signed_in_email(browser) is None  # the squatter's own session ended too
        assert owner.login("victim@example.com", "the owner's own new password").status_code == 303

    @pytest.mark.settings(FACEBOOK_TRUST_EMAIL="true")
    def test_reset_of_a_confirmed_account_keeps_its_provider_accounts(
            self, app, browser, facebook, make_user, db_session, deliver, mailbox):
        facebook.add_user("10011", "Gil", email="gil@example.com")
        continue_with(browser, "facebook", "10011")  # a confirmed account, Facebook-only
        browser.submit("/password/forgot", {"email": "gil@example.com"})
        deliver()
        reset = local_path(mailbox.link("gil@example.com", "/password/reset/"))
        assert browser.submit(reset, {"password": "a password of Gil's own"}).status_code == 200
        assert count(db_session, Identity) == 1
        other = type(browser)(app.test_client())
        assert continue_with(other, "facebook", "10011").status_code == 303
        assert signed_in_email(other) == "gil@example.com"

    def test_facebook_email_of_a_confirmed_account_is_refused(self, browser, facebook,
                                                              make_user, db_session):
        make_user("dana@example.com", confirmed=True)
        facebook.add_user("10006", "Not Dana", email="dana@example.com")
        response = continue_with(browser, "facebook", "10006")
        assert response.status_code == 409
        assert "You already have an account" in browser.last_page
        assert "then link Facebook from your account page" in browser.last_page
        assert 'href="/login"' in browser.last_page
        assert count(db_session, Identity) == 0
        assert count(db_session, Session) == 0
        assert signed_in_email(browser) is None
        refused = db_session.scalar(select(AuditEvent.details).where(
            AuditEvent.event == "social.attach_refused"))
        assert refused == {"provider": "facebook", "provider_verified": False}

    @pytest.mark.settings(FACEBOOK_TRUST_EMAIL="true")
    def test_trusted_facebook_email_attaches_to_the_confirmed_account(
            self, browser, facebook, make_user, db_session):
        owner = make_user("erin@example.com", confirmed=True)
        facebook.add_user("10007", "Erin", email="erin@example.com")
        assert continue_with(browser, "facebook", "10007").status_code == 303
        assert db_session.scalar(select(Identity.user_id)) == owner
        assert signed_in_email(browser) == "erin@example.com"

    def test_cancel_at_the_dialog_is_a_friendly_page(self, browser, facebook, db_session):
        callback = cancel(start(browser, "facebook"))
        assert "error_reason=user_denied" in callback
        response = browser.get(local_path(callback))
        assert response.status_code == 400
        assert "Sign-in cancelled" in browser.last_page
        assert "You cancelled signing in with Facebook" in browser.last_page
        assert 'href="/login"' in browser.last_page
        assert signed_in_email(browser) is None
        assert count(db_session, User) == 0

# --- GitHub -----------------------------------------------------------------------------


def verified(address: str, *, primary: bool) -> dict:
    return {"email": address, "primary": primary, "verified": True, "visibility": None}


def unverified(address: str, *, primary: bool) -> dict:
    return {"email": address, "primary": primary, "verified": False, "visibility": None}


class GitHubAdapter(FakeAdapter):
    """The provider contract's hands on the GitHub fake: the address is the primary one of
    the reader's email list, verified or not as the list says."""

    name, label, vouches_for_email = "github", "GitHub", True

    def add(self, key: str, email: str, *, verified: bool = True) -> None:
        entry = {"email": email, "primary": True, "verified": verified, "visibility": None}
        self.fake.add_user(6000 + len(self.fake.users), key, emails=[entry])

    def change_email(self, key: str, email: str) -> None:
        self.fake.users[key].emails = [verified(email, primary=True)]


class TestGitHubContract(ProviderContract):
    @pytest.fixture
    def adapter(self, github):
        return GitHubAdapter(github)


class TestGitHubQuirks:
    def test_authorize_request_is_what_github_documents(self, browser, github):
        query = parse_qs(urlsplit(start(browser, "github")).query)
        assert query["client_id"] == ["gh-client-id"]
        assert query["redirect_uri"] == [f"{BASE}/login/github/callback"]
        assert "user:email" in query["scope"][0].split()
        assert len(query["state"][0]) >= 20
        assert query["code_challenge_method"] == ["S256"]

    def test_new_account_uses_the_primary_verified_address(self, browser, github, db_session,
                                                           deliver, mailbox):
        github.add_user(5001, "octo-ann", name="Ann Octo", email="public@example.org", emails=[
            unverified("public@example.org", primary=False),
            verified("Ann@Example.com", primary=True),
        ])
        response = continue_with(browser, "github", "octo-ann")
        assert response.status_code == 303
        user = db_session.scalar(select(User))
        assert user.email == "ann@example.com"
        assert user.email_confirmed_at is not None
        assert user.display_name == "Ann Octo"
        assert user.avatar_url == "https://avatars.githubusercontent.com/u/5001?v=4"
        identity = db_session.scalar(select(Identity))
        assert (identity.provider, identity.subject) == ("github", "5001")
        assert browser.get("/api/session").json["user"]["email_verified"] is True
        deliver()
        assert mailbox.messages == []  # nothing to confirm
        # The code was exchanged with the secret and the PKCE verifier in the form body.
        exchange = github.token_requests[-1]["params"]
        assert exchange["client_secret"] == "gh-client-secret"
        assert exchange["code_verifier"]

    @pytest.mark.parametrize("emails", [
        pytest.param([unverified("a@example.com", primary=True),
                      verified("b@example.com", primary=False)], id="verified-not-primary"),
        pytest.param([unverified("a@example.com", primary=True)], id="none-verified"),
        pytest.param([], id="no-addresses"),
    ])
    def test_no_primary_verified_address_asks_for_one(self, browser, github, db_session,
                                                      emails):
        github.add_user(5002, "octo-bo", email="a@example.com", emails=emails)
        response = continue_with(browser, "github", "octo-bo")
        assert response.status_code == 303
        assert response.headers["Location"] == "/login/github/email"
        browser.get("/login/github/email")
        assert "GitHub didn't give us an email address" in browser.last_page
        assert count(db_session, User) == 0
        assert signed_in_email(browser) is None

    def test_attaches_to_a_confirmed_account_with_the_same_address(
            self, browser, github, make_user, db_session):
        owner = make_user("dee@example.com", confirmed=True)
        github.add_user(5004, "octo-dee", emails=[verified("dee@example.com", primary=True)])
        assert continue_with(browser, "github", "octo-dee").status_code == 303
        assert db_session.scalar(select(Identity.user_id)) == owner
        assert count(db_session, User) == 1
        assert signed_in_email(browser) == "dee@example.com"
        details = db_session.scalar(select(AuditEvent.details).where(
            AuditEvent.event == "social.linked"))
        assert details == {"provider": "github", "automatic": True}

    def test_unconfirmed_account_with_the_same_address_is_not_taken_over(
            self, browser, github, make_user, db_session):
        make_user("eve@example.com", "someone else's password", confirmed=False)
        github.add_user(5005, "octo-eve", emails=[verified("eve@example.com", primary=True)])
        assert continue_with(browser, "github", "octo-eve").status_code == 409
        assert count(db_session, Identity) == 0
        assert signed_in_email(browser) is None

    def test_name_falls_back_to_the_login(self, browser, github, db_session):
        github.add_user(5006, "octo-fin", name=None, emails=[
            verified("fin@example.com", primary=True)])
        continue_with(browser, "github", "octo-fin")
        assert db_session.scalar(select(User.display_name)) == "octo-fin"
        assert browser.get("/api/session").json["user"]["name"] == "octo-fin"

    @pytest.mark.settings(PROVIDER_TIMEOUT=1, GITHUB_TOKEN_URL=NOTHING_LISTENS)
    def test_token_endpoint_that_is_down_is_a_friendly_page(self, browser, github):
        github.add_user(5009, "octo-ida", emails=[verified("ida@example.com", primary=True)])
        callback = local_path(approve(start(browser, "github"), "octo-ida"))
        began = time.monotonic()
        response = browser.get(callback)
        assert time.monotonic() - began < 5
        assert response.status_code == 400
        assert "couldn't reach GitHub just now" in browser.last_page
        assert signed_in_email(browser) is None


# --- the fakes themselves: strict enough that a sloppy client would fail -------------------


class TestFakesAreStrict:
    """The flows above mean something only if the fakes refuse what the real ones refuse."""

    def _github_code(self, github, challenge: str | None = "x" * 43) -> str:
        github.add_user(6001, "octo-strict", emails=[verified("s@example.com", primary=True)])
        url = (f"{github.base}/login/oauth/authorize?client_id=gh-client-id&state=st"
               f"&redirect_uri={BASE}/login/github/callback&scope=user:email")
        if challenge:
            url += f"&code_challenge={challenge}&code_challenge_method=S256"
        return parse_qs(urlsplit(approve(url, "octo-strict")).query)["code"][0]

    def _github_exchange(self, github, code: str, accept: str = "application/json", **extra):
        data = {"client_id": "gh-client-id", "client_secret": "gh-client-secret",
                "code": code, "redirect_uri": f"{BASE}/login/github/callback", **extra}
        return requests.post(f"{github.base}/login/oauth/access_token", data=data,
                             headers={"Accept": accept}, timeout=5)

    def test_github_token_endpoint_checks_pkce_and_uses_codes_once(self, github):
        verifier = "v" * 50
        code = self._github_code(github, s256(verifier))
        wrong = self._github_exchange(github, code, code_verifier="w" * 50)
        assert wrong.json()["error"] == "bad_verification_code"
        code = self._github_code(github, s256(verifier))
        good = self._github_exchange(github, code, code_verifier=verifier)
        assert good.json()["token_type"] == "bearer"
        assert self._github_exchange(github, code, code_verifier=verifier).json()["error"] == (
            "bad_verification_code")

    def test_github_token_endpoint_answers_form_encoded_by_default(self, github):
        answer = self._github_exchange(github, self._github_code(github, None), accept="*/*")
        assert answer.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
        assert parse_form(answer.text)["access_token"].startswith("gho_")

    def test_github_token_endpoint_wants_the_secret(self, github):
        answer = self._github_exchange(github, self._github_code(github, None),
                                       client_secret="guess")
        assert answer.json()["error"] == "incorrect_client_credentials"

    def test_github_api_refuses_a_bad_token(self, github):
        for header in ({"Authorization": "Bearer nope"}, {"Authorization": "token nope"}):
            answer = requests.get(f"{github.base}/user", headers=header, timeout=5)
            assert answer.status_code == 401
            assert answer.json()["message"] == "Bad credentials"
        assert requests.get(f"{github.base}/user/emails", timeout=5).status_code == 401

    def test_github_emails_need_the_scope(self, github):
        github.add_user(6002, "octo-noscope", emails=[verified("n@example.com", primary=True)])
        url = (f"{github.base}/login/oauth/authorize?client_id=gh-client-id&state=st"
               f"&redirect_uri={BASE}/login/github/callback&scope=read:user")
        code = parse_qs(urlsplit(approve(url, "octo-noscope")).query)["code"][0]
        token = self._github_exchange(github, code).json()["access_token"]
        headers = {"Authorization": f"token {token}"}
        assert requests.get(f"{github.base}/user", headers=headers, timeout=5).json()[
            "login"] == "octo-noscope"
        assert requests.get(f"{github.base}/user/emails", headers=headers,
                            timeout=5).status_code == 404

    def test_facebook_token_endpoint_checks_redirect_uri_pkce_and_reuse(self, facebook):
        facebook.add_user("7001", "Strict", email="strict@example.com")
        verifier = "q" * 64
        callback = f"{BASE}/login/facebook/callback"

        def code() -> str:
            url = (f"{facebook.base}/v23.0/dialog/oauth?client_id=fb-app-id&state=s"
                   f"&redirect_uri={callback}&scope=email&response_type=code"
                   f"&code_challenge={s256(verifier)}&code_challenge_method=S256")
            return parse_qs(urlsplit(approve(url, "7001")).query)["code"][0]

        def exchange(the_code: str, **extra) -> requests.Response:
            params = {"client_id": "fb-app-id", "client_secret": "fb-app-secret",
                      "redirect_uri": callback, "code": the_code, "code_verifier": verifier,
                      **extra}
            return requests.get(f"{facebook.base}/v23.0/oauth/access_token", params=params,
                                timeout=5)

        other_uri = exchange(code(), redirect_uri=f"{BASE}/elsewhere")
        assert other_uri.status_code == 400
        assert other_uri.json()["error"]["type"] == "OAuthException"
        assert exchange(code(), code_verifier="z" * 64).status_code == 400
        the_code = code()
        token = exchange(the_code).json()
        assert token["token_type"] == "bearer" and token["expires_in"] > 0
        reused = exchange(the_code)
        assert reused.status_code == 400
        assert reused.json()["error"]["message"] == "This authorization code has been used."

        me = requests.get(f"{facebook.base}/v23.0/me", timeout=5, params={
            "fields": "id,name,email,picture.type(large)",
            "access_token": token["access_token"]}).json()
        assert me == {"id": "7001", "name": "Strict", "email": "strict@example.com",
                      "picture": {"data": {"height": 200, "width": 200, "is_silhouette": False,
                                           "url": "https://scontent.fbcdn.example/7001-large.jpg"}}}

    def test_facebook_graph_refuses_a_bad_token_in_facebook_shape(self, facebook):
        answer = requests.get(f"{facebook.base}/v23.0/me",
                              headers={"Authorization": "Bearer nope"}, timeout=5)
        assert answer.status_code == 400
        error = answer.json()["error"]
        assert (error["type"], error["code"]) == ("OAuthException", 190)
        assert error["fbtrace_id"]

    def test_query_shortcuts_answer_at_once(self, facebook, github):
        facebook.add_user("7003", "Quick")
        dialog = (f"{facebook.base}/v23.0/dialog/oauth?client_id=fb-app-id&state=s1"
                  f"&redirect_uri={BASE}/login/facebook/callback&scope=email")
        approved = requests.get(f"{dialog}&as_user=7003", allow_redirects=False, timeout=5)
        assert approved.status_code == 302
        assert "code=" in approved.headers["Location"]
        denied = requests.get(f"{dialog}&action=cancel", allow_redirects=False, timeout=5)
        query = parse_qs(urlsplit(denied.headers["Location"]).query)
        assert query["error"] == ["access_denied"]
        assert query["error_reason"] == ["user_denied"]
        assert query["state"] == ["s1"]
        elsewhere = requests.get(dialog.replace("/login/facebook/callback", "/other"),
                                 allow_redirects=False, timeout=5)
        assert elsewhere.status_code == 400  # not the registered redirect URI
        unknown = requests.get(f"{github.base}/login/oauth/authorize?client_id=nope",
                               allow_redirects=False, timeout=5)
        assert unknown.status_code == 404

    def test_facebook_me_has_no_email_key_for_a_phone_account(self, facebook):
        facebook.add_user("7002", "Phone Only")
        url = (f"{facebook.base}/v23.0/dialog/oauth?client_id=fb-app-id&state=s"
               f"&redirect_uri={BASE}/login/facebook/callback&scope=email,public_profile")
        the_code = parse_qs(urlsplit(approve(url, "7002")).query)["code"][0]
        token = requests.post(f"{facebook.base}/v23.0/oauth/access_token", timeout=5, data={
            "client_id": "fb-app-id", "client_secret": "fb-app-secret", "code": the_code,
            "redirect_uri": f"{BASE}/login/facebook/callback"}).json()["access_token"]
        me = requests.get(f"{facebook.base}/v23.0/me", params={"fields": "id,name,email"},
                          headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
        assert me == {"id": "7002", "name": "Phone Only"}


def test_the_confirmation_page_names_the_provider_account_behind_it(browser, app, facebook,
                                                                    deliver, mailbox):
    # Someone's Facebook account typed another person's address; that person gets the link.
    facebook.add_user("10020", "Mallory Squatter")
    continue_with(browser, "facebook", "10020")
    browser.submit("/login/facebook/email", {"email": "victim@example.com"})
    deliver()
    victim = type(browser)(app.test_client())
    victim.get(local_path(mailbox.link("victim@example.com", "/confirm/")))
    text = " ".join(re.sub(r"<[^>]+>", "", victim.last_page).split())
    assert "This account signs in with Facebook (Mallory Squatter)." in text
    assert "If that isn't you, don't confirm" in victim.last_page
