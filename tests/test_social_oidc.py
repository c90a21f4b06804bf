"""Continue with an OpenID Connect provider: the whole code flow against a real provider.

The provider (oidc-provider-mock, from PyPI) runs on 127.0.0.1; the service is
configured as for any provider: AUTH_OIDC_MOCK_DISCOVERY_URL, _CLIENT_ID,
_CLIENT_SECRET, _LABEL. Nothing about the provider is faked here except in the
"tampering" tests, which put a front before it to forge ID tokens.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwk
from sqlalchemy import func, select

from auth_service.models import AuditEvent, Identity, Session, User
from auth_service.providers import slots
from tests.conftest import PASSWORD
from tests.provider_contract import ProviderContract
from tests.social_support import (
    OIDCAdapter,
    front_of,
    local_path,
    provider_login,
    running_oidc_provider,
)


@pytest.fixture(scope="module")
def provider():
    with running_oidc_provider() as running:
        yield running


@pytest.fixture
def settings(settings, provider):  # overrides conftest's: add the provider to every app
    return {"OIDC_MOCK_DISCOVERY_URL": provider.discovery, "OIDC_MOCK_CLIENT_ID": "auth-service",
            "OIDC_MOCK_CLIENT_SECRET": "s3cret", "OIDC_MOCK_LABEL": "Travel ID", **settings}


def start(browser, return_to: str | None = None) -> str:
    """Click "Continue with Travel ID"; returns the provider's authorize URL."""
    url = "/login/mock" + (f"?return_to={return_to}" if return_to else "")
    response = browser.get(url)
    assert response.status_code == 302, browser.last_page
    location = response.headers["Location"]
    assert location.startswith("http://127.0.0.1:")
    return location


def continue_with(browser, sub: str, return_to: str | None = None, **kwargs):
    callback = provider_login(start(browser, return_to), sub, **kwargs)
    assert callback.startswith("http://auth.test/login/mock/callback?")
    return browser.get(local_path(callback))


class BehindAFront:
    """The service talks to the provider through a front (tests/social_support.py) that
    can forge its ID tokens, fail or hang."""

    @pytest.fixture
    def front(self, provider):
        with front_of(provider) as front:
            yield front

    @pytest.fixture
    def settings(self, settings, front):
        discovery = f"{front.base}/.well-known/openid-configuration"
        return {**settings, "OIDC_MOCK_DISCOVERY_URL": discovery}


class TestOIDCContract(BehindAFront, ProviderContract):
    @pytest.fixture
    def adapter(self, provider, front):
        return OIDCAdapter(provider, front, name="mock", label="Travel ID")


class TestOIDCQuirks:
    """What only an OpenID Connect provider does: ID tokens, discovery, its claims."""

    def test_login_page_offers_the_provider(self, browser):
        browser.get("/login")
        assert "Continue with Travel ID" in browser.last_page
        assert 'href="/login/mock"' in browser.last_page
        browser.get("/register")
        assert "Continue with Travel ID" in browser.last_page

    def test_authorize_request_carries_state_nonce_and_pkce(self, browser):
        query = parse_qs(urlsplit(start(browser)).query)
        assert query["response_type"] == ["code"]
        assert query["client_id"] == ["auth-service"]
        assert query["redirect_uri"] == ["http://auth.test/login/mock/callback"]
        assert query["code_challenge_method"] == ["S256"]
        assert len(query["code_challenge"][0]) >= 43
        assert len(query["state"][0]) >= 20
        assert len(query["nonce"][0]) >= 20
        assert "openid" in query["scope"][0].split()

    def test_new_reader_takes_name_and_picture_from_the_claims(self, browser, provider, db_session):
        provider.set_user("sub-ann", email="Ann@Example.com", email_verified=True,
                          name="Ann Traveller", picture="https://img.example/ann.png")
        response = continue_with(browser, "sub-ann", return_to="https://trusted.example/tito")
        assert response.status_code == 303
        assert response.headers["Location"] == "https://trusted.example/tito"

        user = db_session.scalar(select(User))
        assert user.email == "ann@example.com"
        assert user.email_confirmed  # the provider verified it
        assert user.password_hash is None
        assert (user.display_name, user.avatar_url) == ("Ann Traveller", "https://img.example/ann.png")
        identity = db_session.scalar(select(Identity))
        assert (identity.provider, identity.subject, identity.user_id) == (
            "mock", "sub-ann", user.id)
        session = db_session.scalar(select(Session))
        assert session.method == "mock"

        me = browser.get("/api/session")
        assert me.json["user"]["email"] == "ann@example.com"
        assert me.json["user"]["email_verified"] is True
        assert me.json["user"]["avatar_url"] == "https://img.example/ann.png"

    def test_unverified_email_creates_an_unconfirmed_account_and_sends_a_link(
            self,             browser, provider, db_session, deliver, mailbox):
        provider.set_user("sub-cy", email="cy@example.com", email_verified=False)
        refused = continue_with(browser, "sub-cy")
        assert refused.status_code == 403  # nobody signs in before the address is confirmed
        assert "/confirm/resend" in browser.last_page
        assert db_session.scalar(select(User.email_confirmed_at)) is None
        deliver()
        assert mailbox.subjects("cy@example.com")[0].startswith("Confirm your email address")
        browser.submit(local_path(mailbox.link("cy@example.com", "/confirm/")), {})
        assert continue_with(browser, "sub-cy").status_code == 303
        assert browser.get("/api/session").json["user"]["email_verified"] is True

    def test_verified_email_attaches_to_a_confirmed_account(self, browser, provider, make_user,
                                                            db_session):
        owner = make_user("dana@example.com", confirmed=True)
        provider.set_user("sub-dana", email="dana@example.com", email_verified=True)
        response = continue_with(browser, "sub-dana")
        assert response.status_code == 303
        assert db_session.scalar(select(Identity.user_id)) == owner
        assert db_session.scalar(select(func.count()).select_from(User)) == 1
        details = db_session.scalar(select(AuditEvent.details).where(
            AuditEvent.event == "social.linked"))
        assert details == {"provider": "mock", "automatic": True}

    def test_pre_registered_unconfirmed_address_is_not_taken_over(
            self, browser, provider, make_user, db_session, client):
        # An attacker registered the victim's address with a password of their own, unconfirmed.
        make_user("victim@example.com", "attacker's password!", confirmed=False)
        provider.set_user("sub-victim", email="victim@example.com", email_verified=True)
        response = continue_with(browser, "sub-victim")
        assert response.status_code == 409
        assert "Sign in to it (or reset its password), then link Travel ID" in browser.last_page
        assert db_session.scalar(select(func.count()).select_from(Identity)) == 0
        assert browser.get("/api/session").status_code == 401

    def test_tampered_state_is_refused(self, browser, provider):
        provider.set_user("sub-eve", email="eve@example.com", email_verified=True)
        callback = provider_login(start(browser), "sub-eve")
        tampered = callback.replace("state=", "state=x")
        response = browser.get(local_path(tampered))
        assert response.status_code == 400
        assert "expired or was already used" in browser.last_page
        assert browser.get("/api/session").status_code == 401

    def test_wrong_nonce_is_refused(self, browser, provider, db_session):
        provider.set_user("sub-gus", email="gus@example.com", email_verified=True)

        def swap_nonce(query: dict[str, list[str]]) -> None:
            query["nonce"] = ["a-nonce-the-service-never-issued"]

        response = continue_with(browser, "sub-gus", mutate=swap_nonce)
        assert response.status_code == 400
        assert "couldn't verify the answer from Travel ID" in browser.last_page
        assert db_session.scalar(select(func.count()).select_from(User)) == 0

    def test_discovery_unreachable_is_a_friendly_page(self, app, browser, provider):
        app.extensions["auth_providers"]["mock"].client._server_metadata_url = (
            "http://127.0.0.1:9/.well-known/openid-configuration")  # nothing listens on port 9
        app.extensions["auth_providers"]["mock"].client.server_metadata.clear()
        response = browser.get("/login/mock")
        assert response.status_code == 400
        assert "couldn't reach Travel ID" in browser.last_page

    def test_unknown_provider_is_404(self, browser):
        assert browser.get("/login/myspace").status_code == 404


class TestForgedIDTokens(BehindAFront):
    """A front before the real provider re-signs its ID tokens; only a faithful one passes."""

    def test_faithful_front_signs_in(self, browser, provider):
        provider.set_user("sub-hal", email="hal@example.com", email_verified=True)
        assert continue_with(browser, "sub-hal").status_code == 303

    def test_bad_signature_is_refused(self, browser, provider, front, db_session):
        front.signing_key = jwk.RSAKey.generate_key(2048)  # not the published key
        provider.set_user("sub-ida", email="ida@example.com", email_verified=True)
        assert continue_with(browser, "sub-ida").status_code == 400
        assert "couldn't verify" in browser.last_page
        assert db_session.scalar(select(func.count()).select_from(User)) == 0

    def test_wrong_audience_is_refused(self, browser, provider, front, db_session):
        front.claims_change = {"aud": "some-other-client"}
        provider.set_user("sub-jo", email="jo@example.com", email_verified=True)
        assert continue_with(browser, "sub-jo").status_code == 400
        assert db_session.scalar(select(func.count()).select_from(User)) == 0

    def test_wrong_issuer_is_refused(self, browser, provider, front, db_session):
        front.claims_change = {"iss": "https://evil.example"}
        provider.set_user("sub-kim", email="kim@example.com", email_verified=True)
        assert continue_with(browser, "sub-kim").status_code == 400
        assert db_session.scalar(select(func.count()).select_from(User)) == 0

    def test_expired_token_is_refused(self, browser, provider, front, db_session):
        front.claims_change = {"exp": 1_000_000_000, "iat": 999_999_000}
        provider.set_user("sub-lee", email="lee@example.com", email_verified=True)
        assert continue_with(browser, "sub-lee").status_code == 400
        assert db_session.scalar(select(func.count()).select_from(User)) == 0


class TestLinking:
    def test_link_and_unlink_from_the_account_page(self, browser, provider, make_user,
                                                   db_session, clock):
        make_user("reader@example.com")
        browser.login("reader@example.com")
        provider.set_user("sub-link", email="other-address@example.com", email_verified=False)

        response = browser.submit("/account/link/mock", {}, form_url="/account")
        assert response.status_code == 302  # straight on: the sign-in was just now
        callback = provider_login(response.headers["Location"], "sub-link")
        done = browser.get(local_path(callback))
        assert done.headers["Location"] == "/account/security?done=linked"
        identity = db_session.scalar(select(Identity))
        assert identity.subject == "sub-link"
        browser.get("/account/security")
        assert "Unlink" in browser.last_page

        # Later, that provider account signs in to this account.
        browser.submit("/logout", {})
        assert continue_with(browser, "sub-link").status_code == 303
        assert browser.get("/api/session").json["user"]["email"] == "reader@example.com"

        # Unlinking more than 10 minutes after signing in asks for the password again.
        clock.advance(minutes=11)
        ask = browser.submit(f"/account/identities/{identity.id}/unlink", {}, form_url="/account")
        assert ask.status_code == 303
        assert ask.headers["Location"].startswith("/account/reauth")
        wrong = browser.submit(ask.headers["Location"], {"password": "not the password",
                                                         "next": f"unlink:{identity.id}"})
        assert wrong.status_code == 400
        # Instead of the password, the reader may re-authenticate with the linked provider.
        reauth = browser.submit("/account/reauth/mock", {"next": f"unlink:{identity.id}"},
                                form_url=ask.headers["Location"])
        back = browser.get(local_path(provider_login(reauth.headers["Location"], "sub-link")))
        assert back.status_code == 303
        browser.get(back.headers["Location"])
        assert "Unlink" in browser.last_page
        gone = browser.submit(f"/account/identities/{identity.id}/unlink", {}, form_url="/account")
        assert gone.headers["Location"] == "/account/security?done=unlinked"
        assert db_session.scalar(select(func.count()).select_from(Identity)) == 0
        events = db_session.scalars(select(AuditEvent.event)).all()
        assert {"social.linked", "social.unlinked"} <= set(events)

    def test_the_last_way_in_cannot_be_unlinked(self, browser, provider, db_session):
        provider.set_user("sub-only", email="only@example.com", email_verified=True)
        continue_with(browser, "sub-only")
        identity_id = db_session.scalar(select(Identity.id))
        response = browser.submit(f"/account/identities/{identity_id}/unlink", {},
                                  form_url="/account")
        assert response.status_code == 409
        assert "This is your only way to sign in. Set a password first." in browser.last_page
        assert db_session.scalar(select(func.count()).select_from(Identity)) == 1

    def test_a_provider_account_cannot_be_linked_twice(self, browser, provider, make_user,
                                                       db_session):
        provider.set_user("sub-taken", email="taken@example.com", email_verified=True)
        continue_with(browser, "sub-taken")
        browser.submit("/logout", {})
        make_user("second@example.com")
        browser.login("second@example.com")
        response = browser.submit("/account/link/mock", {}, form_url="/account")
        callback = provider_login(response.headers["Location"], "sub-taken")
        assert browser.get(local_path(callback)).status_code == 409
        assert "already linked to another account" in browser.last_page

    def test_linking_needs_a_post_with_csrf(self, app, browser, make_user):
        make_user("reader@example.com")
        browser.login("reader@example.com")
        assert browser.client.post("/account/link/mock").status_code == 400
        assert browser.get("/account/link/mock").status_code == 405

    def test_password_login_still_works_after_linking(self, browser, provider, make_user):
        make_user("pw@example.com")
        browser.login("pw@example.com")
        response = browser.submit("/account/link/mock", {}, form_url="/account")
        provider.set_user("sub-pw", email="pw@example.com", email_verified=True)
        browser.get(local_path(provider_login(response.headers["Location"], "sub-pw")))
        browser.submit("/logout", {})
        assert browser.login("pw@example.com", PASSWORD).status_code == 303


@pytest.mark.settings(PROVIDER_CONCURRENCY=1)
def test_a_sign_in_finding_every_provider_slot_taken_is_told_to_retry(app, browser, provider,
                                                                       db_session):
    # Another worker's sign-in is waiting on a provider and holds the one slot.
    provider.set_user("sub-kim", email="kim@example.com", email_verified=True)
    callback = provider_login(start(browser), "sub-kim")
    with slots.slot(Path(app.instance_path) / "provider-slots", 1) as held:
        assert held
        response = browser.get(local_path(callback))
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert "Please try again in a moment" in browser.last_page
        assert browser.get("/login/mock").status_code == 503  # starting one waits on it too
    assert db_session.scalar(select(func.count()).select_from(User)) == 0
    # Once the slot is free, the same reader gets through.
    assert continue_with(browser, "sub-kim").status_code == 303
    assert browser.get("/api/session").json["user"]["email"] == "kim@example.com"
