"""The embeddable "Continue with …" block (/widget/login-buttons) and provider configuration.

The widget takes the options of the content site's current shortcode
``[fbl_login_button redirect="" hide_if_logged="" size="large" type="continue_with"
show_face="true"]``. Pages are read the way a reader (or a screen reader) meets
them: the links, their text, where they lead and open, and the headers that
decide who may frame the block.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from auth_service import create_app
from auth_service.config import ConfigError, load
from auth_service.models import User
from tests.social_support import (
    OIDCProvider,
    local_path,
    provider_login,
    serve,
    start_oidc_provider,
)

NOWHERE = "http://127.0.0.1:9"  # never contacted: rendering a button needs no provider
WIDGET = "/widget/login-buttons"
SHORTCODE = f"{WIDGET}?redirect=&hide_if_logged=&size=large&type=continue_with&show_face=true"


@pytest.fixture(scope="module")
def google():
    with serve(start_oidc_provider()) as base:
        yield OIDCProvider(base)


@pytest.fixture
def settings(settings, google):  # overrides conftest's: Google, Facebook and GitHub configured
    return {
        "GOOGLE_CLIENT_ID": "google-client", "GOOGLE_CLIENT_SECRET": "google-secret",
        "GOOGLE_DISCOVERY_URL": google.discovery,
        "FACEBOOK_CLIENT_ID": "fb-app", "FACEBOOK_CLIENT_SECRET": "fb-secret",
        "FACEBOOK_AUTHORIZE_URL": f"{NOWHERE}/v23.0/dialog/oauth",
        "FACEBOOK_TOKEN_URL": f"{NOWHERE}/v23.0/oauth/access_token",
        "FACEBOOK_API_URL": f"{NOWHERE}/v23.0/",
        "GITHUB_CLIENT_ID": "gh-client", "GITHUB_CLIENT_SECRET": "gh-secret",
        "GITHUB_AUTHORIZE_URL": f"{NOWHERE}/login/oauth/authorize",
        "GITHUB_TOKEN_URL": f"{NOWHERE}/login/oauth/access_token",
        "GITHUB_API_URL": f"{NOWHERE}/",
        **settings,
    }


# --- reading a page ---------------------------------------------------------------------


@dataclass
class Link:
    href: str
    attrs: dict[str, str]
    text: str = ""  # what a screen reader announces: text outside aria-hidden parts
    marks: list[str] = field(default_factory=list)  # the <svg> logos inside, as markup


class Page(HTMLParser):
    """The parts of a page the tests look at: links, lists, images, the body's content."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[Link] = []
        self.lists: list[dict[str, str]] = []
        self.images: list[dict[str, str]] = []
        self.body_parts: list[str] = []  # tags and text inside <body>
        self.words: list[str] = []  # the body's text, as read
        self._link: Link | None = None
        self._hidden = 0  # depth inside aria-hidden elements
        self._svg: list[str] | None = None
        self._in_body = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "body":
            self._in_body = True
            return
        if self._in_body:
            self.body_parts.append(tag)
        if tag == "a":
            self._link = Link(href=values.get("href", ""), attrs=values)
            self.links.append(self._link)
        elif tag == "ul":
            self.lists.append(values)
        elif tag == "img":
            self.images.append(values)
        if self._svg is not None or tag == "svg":
            self._svg = [] if self._svg is None else self._svg
            self._svg.append(self.get_starttag_text() or "")
        if self._hidden or values.get("aria-hidden") == "true":
            self._hidden += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._svg is not None:
            self._svg.append(self.get_starttag_text() or "")
        else:
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "body":
            self._in_body = False
        if self._svg is not None:
            self._svg.append(f"</{tag}>")
            if tag == "svg":
                if self._link is not None:
                    self._link.marks.append("".join(self._svg))
                self._svg = None
        if self._hidden:
            self._hidden -= 1
        if tag == "a" and self._link is not None:
            self._link.text = " ".join(self._link.text.split())
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._in_body and data.strip():
            self.body_parts.append(data.strip())
            self.words.extend(data.split())
        if self._link is not None and not self._hidden:
            self._link.text += data

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def provider_links(self) -> list[Link]:
        return [link for link in self.links if link.href.startswith("/login/")]

    def texts(self) -> list[str]:
        return [link.text for link in self.provider_links()]


def open_widget(browser, query: str = ""):
    response = browser.get(WIDGET + (f"?{query}" if query else ""))
    assert response.status_code == 200
    return response, Page(response.get_data(as_text=True))


def set_avatar(db_session, email: str, url: str | None) -> None:
    db_session.execute(update(User).where(User.email == email).values(avatar_url=url))
    db_session.commit()


# --- the widget ---------------------------------------------------------------------------


class TestWidgetOptions:
    def test_default_is_medium_continue_with_every_configured_provider(self, browser):
        _, page = open_widget(browser)
        assert page.texts() == ["Continue with Google", "Continue with Facebook",
                                "Continue with GitHub"]
        assert [link.href for link in page.provider_links()] == [
            "/login/google", "/login/facebook", "/login/github"]
        assert "social-medium" in page.lists[0]["class"].split()

    @pytest.mark.parametrize("size", ["small", "medium", "large"])
    def test_size_is_the_list_class(self, browser, size):
        _, page = open_widget(browser, f"size={size}")
        classes = page.lists[0]["class"].split()
        assert f"social-{size}" in classes
        assert {"social-small", "social-medium", "social-large"} & set(classes) == {
            f"social-{size}"}

    @pytest.mark.parametrize(("kind", "verb"), [
        ("continue_with", "Continue with"),
        ("login_with", "Log in with"),
        ("sign_in_with", "Sign in with"),
    ])
    def test_type_is_the_verb_of_every_button(self, browser, kind, verb):
        _, page = open_widget(browser, f"type={kind}")
        assert page.texts() == [f"{verb} Google", f"{verb} Facebook", f"{verb} GitHub"]

    @pytest.mark.parametrize("query", [
        "size=huge&type=hug_with",
        "size=LARGE%3Cscript%3E&type=%22%3E",
        "size=&type=",
        "show_face=perhaps&hide_if_logged=2",
    ])
    def test_unknown_values_fall_back_to_the_defaults(self, browser, query):
        _, page = open_widget(browser, query)
        assert "social-medium" in page.lists[0]["class"].split()
        assert page.texts() == ["Continue with Google", "Continue with Facebook",
                                "Continue with GitHub"]
        assert "<script>" not in browser.last_page

    def test_show_face_for_anonymous_reader_shows_buttons(self, browser):
        _, page = open_widget(browser, "show_face=true")
        assert len(page.provider_links()) == 3
        assert "Signed in as" not in browser.last_page

    def test_show_face_shows_the_signed_in_readers_avatar_and_name(self, browser, make_user,
                                                                   db_session):
        make_user("ann@example.com", name="Ann Tito")
        set_avatar(db_session, "ann@example.com", "https://img.example/ann.png")
        browser.login("ann@example.com")
        _, page = open_widget(browser, "show_face=true")
        assert page.provider_links() == []
        assert "Signed in as Ann Tito" in page.text
        assert [img["src"] for img in page.images] == ["https://img.example/ann.png"]

    def test_show_face_without_avatar_shows_the_initial(self, browser, make_user):
        make_user("bo@example.com", name="bo diddley")
        browser.login("bo@example.com")
        _, page = open_widget(browser, "show_face=1")
        assert page.images == []
        assert '<span class="initial" aria-hidden="true">B</span>' in browser.last_page
        assert "Signed in as bo diddley" in page.text
        assert page.provider_links() == []

    def test_without_show_face_a_signed_in_reader_still_sees_buttons(self, browser,
                                                                     make_user):
        make_user("cy@example.com", name="Cy")
        browser.login("cy@example.com")
        _, page = open_widget(browser, "show_face=false")
        assert len(page.provider_links()) == 3
        assert "Signed in as" not in browser.last_page

    def test_hide_if_logged_is_an_empty_body_for_a_signed_in_reader(self, browser,
                                                                    make_user):
        _, anonymous = open_widget(browser, "hide_if_logged=true")
        assert len(anonymous.provider_links()) == 3
        make_user("dee@example.com")
        browser.login("dee@example.com")
        for query in ("hide_if_logged=true", "hide_if_logged=1&show_face=true"):
            _, page = open_widget(browser, query)
            assert page.body_parts == [], page.body_parts

    def test_trusted_redirect_is_carried_by_every_button(self, browser):
        _, page = open_widget(browser, "redirect=https://trusted.example/enter-the-red-army")
        for link in page.provider_links():
            query = parse_qs(urlsplit(link.href).query)
            assert query["return_to"] == ["https://trusted.example/enter-the-red-army"]

    @pytest.mark.parametrize("target", [
        "https://evil.example/phish",
        "//evil.example/x",
        "javascript:alert(1)",
        "https://trusted.example.evil.example/",
    ])
    def test_untrusted_redirect_is_dropped(self, browser, target):
        _, page = open_widget(browser, f"redirect={target}")
        assert [link.href for link in page.provider_links()] == [
            "/login/google", "/login/facebook", "/login/github"]
        assert "evil" not in browser.last_page

    def test_buttons_open_in_the_top_window(self, browser):
        _, page = open_widget(browser, "size=large")
        assert page.provider_links()
        assert all(link.attrs.get("target") == "_top" for link in page.provider_links())

    def test_each_button_is_named_by_its_text_and_the_logo_is_hidden(self, browser):
        _, page = open_widget(browser)
        for link, provider in zip(page.provider_links(), ("Google", "Facebook", "GitHub"),
                                  strict=True):
            assert link.text == f"Continue with {provider}"
            assert "aria-label" not in link.attrs  # the visible text is the name
            assert len(link.marks) == 1
            assert 'aria-hidden="true"' in link.marks[0]

    def test_the_shortcode_as_the_site_uses_it(self, browser, make_user):
        _, page = open_widget(browser, SHORTCODE.split("?", 1)[1])
        assert "social-large" in page.lists[0]["class"].split()
        assert page.texts()[0] == "Continue with Google"
        make_user("eve@example.com", name="Eve")
        browser.login("eve@example.com")
        _, signed_in = open_widget(browser, SHORTCODE.split("?", 1)[1])
        assert signed_in.provider_links() == []
        assert "Signed in as Eve" in signed_in.text


class TestFraming:
    def test_only_trusted_origins_may_frame_the_widget(self, app, browser):
        response, _ = open_widget(browser)
        policy = dict(part.strip().split(" ", 1)
                      for part in response.headers["Content-Security-Policy"].split(";"))
        assert policy["frame-ancestors"].split() == list(app.config["TRUSTED_ORIGINS"])
        assert set(policy["frame-ancestors"].split()) == {
            "http://auth.test", "https://trusted.example", "http://localhost:5001"}
        assert "'none'" not in policy["frame-ancestors"]
        assert "*" not in policy["frame-ancestors"]
        assert "X-Frame-Options" not in response.headers
        # The rest of the policy is the strict one every page has.
        assert policy["script-src"] == "'self'"
        assert policy["default-src"] == "'self'"

    def test_the_login_page_cannot_be_framed(self, browser):
        response = browser.get("/login")
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"

    def test_one_readers_widget_is_never_cached_for_another(self, browser):
        response, _ = open_widget(browser)
        assert "Cookie" in response.headers["Vary"]
        assert response.headers["Cache-Control"] == "no-store"


class TestButtonsEverywhere:
    def test_login_page_shows_the_same_buttons_and_marks(self, browser):
        _, widget = open_widget(browser)
        login = Page(browser.get("/login").get_data(as_text=True))
        assert login.texts() == widget.texts()
        assert [link.href for link in login.provider_links()] == [
            link.href for link in widget.provider_links()]
        assert [link.marks for link in login.provider_links()] == [
            link.marks for link in widget.provider_links()]
        assert [link.attrs["class"] for link in login.provider_links()] == [
            "social-button social-google", "social-button social-facebook",
            "social-button social-github"]
        # On its own page the buttons need not break out of a frame.
        assert all("target" not in link.attrs for link in login.provider_links())

    def test_marks_are_each_providers_own(self, browser):
        _, page = open_widget(browser)
        google, facebook, github = (link.marks[0] for link in page.provider_links())
        assert "#4285F4" in google and "#EA4335" in google  # Google's four colours
        assert 'viewBox="0 0 24 24"' in facebook and 'fill="#fff"' in facebook
        assert 'viewBox="0 0 16 16"' in github
        assert len({google, facebook, github}) == 3

    @pytest.mark.settings(GOOGLE_CLIENT_ID="", GOOGLE_CLIENT_SECRET="",
                          FACEBOOK_CLIENT_ID="", FACEBOOK_CLIENT_SECRET="")
    def test_only_configured_providers_appear(self, browser):
        _, page = open_widget(browser)
        assert page.texts() == ["Continue with GitHub"]
        login = Page(browser.get("/login").get_data(as_text=True))
        assert login.texts() == ["Continue with GitHub"]
        assert browser.get("/login/google").status_code == 404

    @pytest.mark.settings(GOOGLE_CLIENT_ID="", GOOGLE_CLIENT_SECRET="",
                          FACEBOOK_CLIENT_ID="", FACEBOOK_CLIENT_SECRET="",
                          GITHUB_CLIENT_ID="", GITHUB_CLIENT_SECRET="")
    def test_no_provider_configured_shows_the_email_sign_in_instead(self, browser):
        _, page = open_widget(browser, "redirect=https://trusted.example/tito")
        assert page.provider_links() == []
        [link] = [link for link in page.links if link.text == "Sign in with your email"]
        assert link.href == "/login?return_to=https://trusted.example/tito"
        assert link.attrs.get("target") == "_top"
        browser.get("/login")
        assert "For faster login or register use your social account" not in browser.last_page

    def test_a_widget_button_signs_in_and_returns_to_the_article(self, browser, google):
        google.set_user("g-ann", email="ann@example.com", email_verified=True, name="Ann")
        _, page = open_widget(browser, "redirect=https://trusted.example/tito&size=large")
        click = browser.get(page.provider_links()[0].href)
        assert click.status_code == 302
        authorize = click.headers["Location"]
        assert authorize.startswith(google.base)
        assert parse_qs(urlsplit(authorize).query)["redirect_uri"] == [
            "http://auth.test/login/google/callback"]
        back = browser.get(local_path(provider_login(authorize, "g-ann")))
        assert back.status_code == 303
        assert back.headers["Location"] == "https://trusted.example/tito"
        _, after = open_widget(browser, "show_face=true")
        assert after.provider_links() == []
        assert "Signed in as Ann" in after.text


# --- provider configuration ---------------------------------------------------------------


class TestProviderConfiguration:
    """Bad provider settings stop the service at start-up, naming the variable to fix."""

    @pytest.fixture
    def clean_environ(self, monkeypatch):
        for name in list(os.environ):
            if name.startswith("AUTH_"):
                monkeypatch.delenv(name)

    def load_with(self, tmp_path: Path, **environ: str) -> dict:
        return load(str(tmp_path), {"SECRET_KEY": "k" * 32}, environ=environ)

    @pytest.mark.parametrize(("environ", "variable"), [
        ({"AUTH_GITHUB_CLIENT_ID": "id"}, "AUTH_GITHUB_CLIENT_SECRET"),
        ({"AUTH_GITHUB_CLIENT_SECRET": "s"}, "AUTH_GITHUB_CLIENT_ID"),
        ({"AUTH_GOOGLE_CLIENT_ID": "id"}, "AUTH_GOOGLE_CLIENT_SECRET"),
        ({"AUTH_FACEBOOK_CLIENT_ID": "id", "AUTH_FACEBOOK_CLIENT_SECRET": "s",
          "AUTH_FACEBOOK_TRUST_EMAIL": "perhaps"}, "AUTH_FACEBOOK_TRUST_EMAIL"),
        ({"AUTH_OIDC_X_DISCOVERY_URL": "https://idp.example/.well-known/openid-configuration"},
         "AUTH_OIDC_X_CLIENT_ID"),
        ({"AUTH_OIDC_X_DISCOVERY_URL": "https://idp.example/.well-known/openid-configuration",
          "AUTH_OIDC_X_CLIENT_ID": "id"}, "AUTH_OIDC_X_CLIENT_SECRET"),
        ({"AUTH_OIDC_X_DISCOVERY_URL": "idp.example/.well-known/openid-configuration",
          "AUTH_OIDC_X_CLIENT_ID": "id", "AUTH_OIDC_X_CLIENT_SECRET": "s"},
         "AUTH_OIDC_X_DISCOVERY_URL"),
        ({"AUTH_GITHUB_CLIENT_ID": "id", "AUTH_GITHUB_CLIENT_SECRET": "s",
          "AUTH_GITHUB_TOKEN_URL": "ftp://github.example/token"}, "AUTH_GITHUB_TOKEN_URL"),
        ({"AUTH_GOOGLE_CLIENT_ID": "id", "AUTH_GOOGLE_CLIENT_SECRET": "s",
          "AUTH_GOOGLE_DISCOVERY_URL": "not a url"}, "AUTH_GOOGLE_DISCOVERY_URL"),
        ({"AUTH_OIDC_GOOGLE_DISCOVERY_URL": "https://accounts.google.com/.well-known/x",
          "AUTH_OIDC_GOOGLE_CLIENT_ID": "id", "AUTH_OIDC_GOOGLE_CLIENT_SECRET": "s"},
         "AUTH_OIDC_GOOGLE_DISCOVERY_URL"),
    ], ids=["github-no-secret", "github-no-id", "google-no-secret", "facebook-trust",
            "oidc-no-id", "oidc-no-secret", "oidc-bad-url", "github-bad-url",
            "google-bad-url", "oidc-built-in-name"])
    def test_bad_settings_name_the_variable(self, tmp_path, environ, variable):
        with pytest.raises(ConfigError) as caught:
            self.load_with(tmp_path, **environ)
        assert caught.value.variable == variable
        assert str(caught.value).startswith(f"{variable}: ")
        assert "\n" not in str(caught.value)

    def test_built_in_name_as_oidc_says_what_to_use(self, tmp_path):
        with pytest.raises(ConfigError, match="AUTH_GITHUB_CLIENT_ID"):
            self.load_with(tmp_path, AUTH_OIDC_GITHUB_DISCOVERY_URL="https://x.example/d",
                           AUTH_OIDC_GITHUB_CLIENT_ID="id", AUTH_OIDC_GITHUB_CLIENT_SECRET="s")

    def test_good_settings_configure_the_providers(self, tmp_path):
        config = self.load_with(
            tmp_path,
            AUTH_GITHUB_CLIENT_ID="id", AUTH_GITHUB_CLIENT_SECRET="s",
            AUTH_OIDC_MY_IDP_DISCOVERY_URL="https://sso.example/.well-known/openid-configuration",
            AUTH_OIDC_MY_IDP_CLIENT_ID="id", AUTH_OIDC_MY_IDP_CLIENT_SECRET="s",
            AUTH_OIDC_KEYCLOAK_DISCOVERY_URL="https://kc.example/realms/r/.well-known/"
                                             "openid-configuration",
            AUTH_OIDC_KEYCLOAK_CLIENT_ID="id", AUTH_OIDC_KEYCLOAK_CLIENT_SECRET="s",
            AUTH_OIDC_KEYCLOAK_LABEL="Staff login")
        found = {p.name: p for p in config["PROVIDERS"]}
        assert list(found) == ["github", "keycloak", "my-idp"]
        assert found["keycloak"].label == "Staff login"
        assert found["my-idp"].label == "My Idp"
        assert found["github"].token_url == "https://github.com/login/oauth/access_token"

    def test_create_app_refuses_to_start(self, tmp_path, clean_environ, database_url):
        base = {"SECRET_KEY": "k" * 32, "DATABASE_URL": database_url,
                "INSTANCE_PATH": str(tmp_path / "instance")}
        with pytest.raises(ConfigError) as caught:
            create_app({**base, "GITHUB_CLIENT_ID": "id"})
        assert caught.value.variable == "AUTH_GITHUB_CLIENT_SECRET"
        with pytest.raises(ConfigError) as caught:
            create_app({**base, "OIDC_X_DISCOVERY_URL": "https://idp.example/d"})
        assert caught.value.variable == "AUTH_OIDC_X_CLIENT_ID"
        with pytest.raises(ConfigError) as caught:
            create_app({**base, "OIDC_GOOGLE_DISCOVERY_URL": "https://idp.example/d",
                        "OIDC_GOOGLE_CLIENT_ID": "id", "OIDC_GOOGLE_CLIENT_SECRET": "s"})
        assert caught.value.variable == "AUTH_OIDC_GOOGLE_DISCOVERY_URL"

    def test_create_app_reads_the_environment(self, tmp_path, clean_environ, monkeypatch,
                                              database_url):
        monkeypatch.setenv("AUTH_FACEBOOK_CLIENT_ID", "id")
        with pytest.raises(ConfigError) as caught:
            create_app({"SECRET_KEY": "k" * 32, "DATABASE_URL": database_url,
                        "INSTANCE_PATH": str(tmp_path / "instance")})
        assert caught.value.variable == "AUTH_FACEBOOK_CLIENT_SECRET"
