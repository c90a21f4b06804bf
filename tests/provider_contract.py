"""The contract every "continue with" provider passes, whatever it speaks underneath.

A provider's test module subclasses :class:`ProviderContract` and gives it an
``adapter`` fixture: a small object that plays the provider's side (add a
reader, change their address, approve or cancel the consent screen, go down or
slow). The contract then checks, through the service's real pages, what a
reader and an operator rely on for every provider alike: a new reader gets an
account and comes back, a returning reader is found by the provider's subject
and never by the address, an address the provider does not vouch for never
attaches to an account, and a cancelled round trip, a replayed callback or a
provider that is down or slow each end on a friendly page with nobody signed in.

What only one provider does (Facebook's Graph fields, GitHub's email list,
OpenID Connect's ID-token checks) lives in that provider's own quirks class,
beside its contract class.
"""

from __future__ import annotations

import time
from typing import Protocol

import pytest
from sqlalchemy import func, select

from auth_service.models import Identity, Session, User
from tests.conftest import local_path

RETURN_TO = "https://trusted.example/kilimanjaro"


class Adapter(Protocol):
    """The provider's side of the round trip, as the contract drives it."""

    name: str  # the provider's slot in the service: /login/<name>
    label: str  # what the service calls it on its pages
    vouches_for_email: bool  # False: the service confirms the address by email first

    def add(self, key: str, email: str, *, verified: bool = True) -> None:
        """A reader at the provider; ``verified``: the provider says it checked the address."""

    def change_email(self, key: str, email: str) -> None:
        """The reader changes their address at the provider (to a verified one)."""

    def approve(self, authorize_url: str, key: str) -> str:
        """The reader approves as ``key``; returns the callback URL the provider sends."""

    def cancel(self, authorize_url: str) -> str:
        """The reader presses cancel; returns the callback URL the provider sends."""

    def go_down(self) -> None:
        """The provider's token endpoint answers 503 from now on."""

    def go_slow(self, seconds: float) -> None:
        """The provider's token endpoint hangs for ``seconds`` (bounded) before answering."""


def count(db_session, model) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model))


def signed_in_email(browser) -> str | None:
    answer = browser.get("/api/session")
    return answer.json["user"]["email"] if answer.status_code == 200 else None


class ProviderContract:
    """Inherited by ``Test<Provider>Contract`` classes that define the ``adapter`` fixture."""

    def start(self, browser, adapter: Adapter, return_to: str | None = None) -> str:
        """Press "Continue with <label>"; returns the provider's authorize URL."""
        query = f"?return_to={return_to}" if return_to else ""
        response = browser.get(f"/login/{adapter.name}{query}")
        assert response.status_code == 302, browser.last_page
        location = response.headers["Location"]
        assert location.startswith("http://127.0.0.1:"), location
        return location

    def round_trip(self, browser, adapter: Adapter, key: str, return_to: str | None = None):
        callback = adapter.approve(self.start(browser, adapter, return_to), key)
        assert callback.startswith(f"http://auth.test/login/{adapter.name}/callback?"), callback
        return browser.get(local_path(callback))

    def sign_up(self, browser, adapter: Adapter, key: str, address: str, mailbox, deliver,
                return_to: str | None = None):
        """A new reader's first sign-in, through the emailed link when the provider
        does not vouch for the address; returns the answer that signs them in."""
        response = self.round_trip(browser, adapter, key, return_to)
        if adapter.vouches_for_email:
            return response
        assert response.status_code == 403, browser.last_page
        assert signed_in_email(browser) is None
        deliver()
        browser.submit(local_path(mailbox.link(address, "/confirm/")), {})
        return self.round_trip(browser, adapter, key, return_to)

    def test_new_reader_gets_an_account_and_comes_back(self, browser, adapter, db_session,
                                                       mailbox, deliver):
        adapter.add("reader-ann", "Ann.Ndlovu@Example.com")
        response = self.sign_up(browser, adapter, "reader-ann", "ann.ndlovu@example.com",
                                mailbox, deliver, RETURN_TO)
        assert response.status_code == 303, browser.last_page
        assert response.headers["Location"] == RETURN_TO
        me = browser.get("/api/session").json["user"]
        assert (me["email"], me["email_verified"]) == ("ann.ndlovu@example.com", True)
        identity = db_session.scalar(select(Identity))
        assert identity.provider == adapter.name
        assert identity.user_id == db_session.scalar(select(User.id))
        assert count(db_session, User) == 1

    def test_returning_reader_is_found_by_subject_not_email(self, browser, adapter, make_user,
                                                            db_session, mailbox, deliver):
        adapter.add("reader-ben", "ben@example.com")
        response = self.sign_up(browser, adapter, "reader-ben", "ben@example.com", mailbox, deliver)
        assert response.status_code == 303, browser.last_page
        browser.submit("/logout", {})
        # At the provider, the reader moves to an address another account here owns.
        make_user("someone-else@example.com", confirmed=True)
        adapter.change_email("reader-ben", "someone-else@example.com")
        response = self.round_trip(browser, adapter, "reader-ben")
        assert response.status_code == 303, browser.last_page
        assert signed_in_email(browser) == "ben@example.com"
        assert count(db_session, User) == 2
        assert count(db_session, Identity) == 1

    def test_unverified_email_never_attaches(self, browser, adapter, make_user, db_session):
        owner = make_user("cleo@example.com", confirmed=True)
        adapter.add("squatter", "cleo@example.com", verified=False)
        self.round_trip(browser, adapter, "squatter")
        assert signed_in_email(browser) is None
        attached = db_session.scalar(select(func.count()).select_from(Identity).where(
            Identity.user_id == owner))
        assert attached == 0
        assert count(db_session, Session) == 0

    def test_cancelled_round_trip_is_a_friendly_page(self, browser, adapter, db_session):
        callback = adapter.cancel(self.start(browser, adapter))
        response = browser.get(local_path(callback))
        assert response.status_code == 400
        assert f"You cancelled signing in with {adapter.label}" in browser.last_page
        assert 'href="/login"' in browser.last_page
        assert signed_in_email(browser) is None
        assert count(db_session, User) == 0

    def test_replayed_callback_is_refused(self, app, browser, adapter, db_session, mailbox,
                                          deliver):
        adapter.add("reader-fay", "fay@example.com")
        self.sign_up(browser, adapter, "reader-fay", "fay@example.com", mailbox, deliver)
        browser.submit("/logout", {})
        callback = local_path(adapter.approve(self.start(browser, adapter), "reader-fay"))
        assert browser.get(callback).status_code == 303
        browser.submit("/logout", {})
        sessions = count(db_session, Session)
        assert browser.get(callback).status_code == 400
        assert signed_in_email(browser) is None
        # Stolen and replayed from another browser: the same refusal.
        assert app.test_client().get(callback).status_code == 400
        assert count(db_session, Session) == sessions

    def test_provider_down_is_a_friendly_page(self, browser, adapter, db_session):
        adapter.add("reader-gus", "gus@example.com")
        callback = local_path(adapter.approve(self.start(browser, adapter), "reader-gus"))
        adapter.go_down()
        response = browser.get(callback)
        assert response.status_code == 400
        assert f"couldn't reach {adapter.label} just now" in browser.last_page
        assert 'href="/login"' in browser.last_page
        assert signed_in_email(browser) is None
        assert count(db_session, User) == 0

    @pytest.mark.settings(PROVIDER_TIMEOUT=1)
    def test_slow_provider_is_given_up_on_after_the_timeout(self, browser, adapter, db_session):
        adapter.add("reader-hal", "hal@example.com")
        callback = local_path(adapter.approve(self.start(browser, adapter), "reader-hal"))
        adapter.go_slow(20)
        began = time.monotonic()
        response = browser.get(callback)
        elapsed = time.monotonic() - began
        assert response.status_code == 400
        assert f"couldn't reach {adapter.label} just now" in browser.last_page
        assert 0.9 <= elapsed < 5
        assert signed_in_email(browser) is None
        assert count(db_session, User) == 0
