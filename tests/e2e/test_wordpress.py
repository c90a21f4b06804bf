"""The content site's sign-in box in a real WordPress, signing readers in and out via the service.

WordPress (Debian's files, MariaDB, PHP's built-in server; see tests/wordpress.py)
runs the plugin from examples/wordpress/auth-service-login with its page holding
the site's exact shortcode. The service runs live (`auth-service run`) with the
site registered as an OpenID Connect client by `auth-service clients add`, and a
"continue with" provider (oidc-provider-mock, a real OpenID provider) as its
social demo. The reader is plain HTTP with one cookie jar for both sites
(tests.live.Browser): every page, redirect and form is what a browser would
get, without JavaScript, which the plugin does not use.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from tests.conftest import FAST_ARGON2, PASSWORD
from tests.live import CLI, CSRF, EMAIL, NAME, SECRET, Browser, LiveService, Page, live_service
from tests.social_support import OIDCProvider, provider_login, serve, start_oidc_provider
from tests.wordpress import (
    LOCAL,
    LOG_OUT,
    WordPress,
    block,
    buttons,
    follow,
    require_wordpress,
)

require_wordpress()

HIDDEN = re.compile(r'<input[^>]*name="(return_to|csrf_token)"[^>]*value="([^"]*)"')


@dataclass
class Site:
    """The service, the WordPress site registered with it, and its "continue with" provider."""

    service: LiveService
    wordpress: WordPress
    demo: OIDCProvider
    client_id: str = ""
    client_secret: str = ""

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """`auth-service ARGS` on the live service's database; its stdout."""
        folder = self.service.log_path.parent
        environ = {key: value for key, value in os.environ.items() if not key.startswith("AUTH_")}
        environ.update({f"AUTH_{key}": str(value) for key, value in FAST_ARGON2.items()})
        environ.update(AUTH_INSTANCE_PATH=str(folder), AUTH_SECRET_KEY=SECRET,
                       AUTH_DATABASE_URL=f"sqlite:///{folder / 'auth.db'}",
                       AUTH_BASE_URL=self.service.base)
        done = subprocess.run([CLI, *args], input=stdin, env=environ, capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, f"auth-service {' '.join(args)}: {done.stderr}"
        return done.stdout

    def wp_users(self, sub: str) -> list[int]:
        """The WordPress users keyed by this service subject."""
        return json.loads(self.wordpress.php(
            "echo json_encode(array_map('intval', wp_list_pluck(get_users(["
            f"'meta_key' => 'auth_service_sub', 'meta_value' => {json.dumps(sub)}]), 'ID')));"))


@pytest.fixture(scope="module")
def site(wordpress: WordPress, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serve(start_oidc_provider()) as demo_base:
        demo = OIDCProvider(demo_base)
        providers = {"AUTH_OIDC_DEMO_DISCOVERY_URL": demo.discovery,
                     "AUTH_OIDC_DEMO_CLIENT_ID": "auth-service",
                     "AUTH_OIDC_DEMO_CLIENT_SECRET": "demo-secret",
                     "AUTH_OIDC_DEMO_LABEL": "Demo ID"}
        folder = tmp_path_factory.mktemp("service-for-wordpress")
        # Unconfirmed addresses may sign in here, so that the plugin's own refusal to link
        # an unverified address to an existing WordPress user can be seen.
        environment = {**providers, "AUTH_REQUIRE_CONFIRMED_EMAIL": "false"}
        with live_service(folder, environment=environment) as service:
            site = Site(service, wordpress, demo)
            client = json.loads(site.cli(
                "clients", "add", "Red Africa Travel",
                "--redirect-uri", wordpress.url("/?auth-service=callback"),
                "--post-logout-redirect-uri", wordpress.url("/"),
                "--backchannel-logout-uri", wordpress.url("/?auth-service=backchannel-logout"),
                "--first-party"))
            site.client_id, site.client_secret = client["client_id"], client["client_secret"]
            wordpress.reset()
            wordpress.configure(AUTH_SERVICE_URL=service.base,
                                AUTH_SERVICE_CLIENT_ID=site.client_id,
                                AUTH_SERVICE_CLIENT_SECRET=site.client_secret)
            yield site
            wordpress.reset()


# --- the reader -----------------------------------------------------------------------------


def sign_in_with_password(site: Site, browser: Browser, email: str = EMAIL,
                          page_url: str | None = None, stop: str | None = None) -> Page:
    """From the sign-in page: "Sign in with your email", the service's form, back on the page.

    With ``stop``, the answer that would open a URL starting with it (see ``follow``).
    """
    page = browser.open(page_url or site.wordpress.page)
    local = LOCAL.search(block(page))
    assert local, block(page)
    form, form_url = follow(browser, html.unescape(local.group(1)))
    assert form_url.startswith(site.service.base + "/login"), form_url
    hidden = {name: html.unescape(value) for name, value in HIDDEN.findall(form.text)}
    back, back_url = follow(browser, site.service.base + "/login",
                            {**hidden, "email": email, "password": PASSWORD}, stop=stop)
    if stop is None:
        assert back_url == (page_url or site.wordpress.page), (back_url, back.text[:500])
    return back


def signed_in_to_wordpress(site: Site, browser: Browser) -> bool:
    page = browser.open(site.wordpress.url("/wp-admin/profile.php"))
    if page.status == 200:
        assert "Profile" in page.text
        return True
    assert page.status == 302 and "wp-login.php" in page.location, page.status
    return False


def service_user(site: Site, email: str, name: str, *, confirmed: bool = True) -> str:
    """An account on the service; its subject (the id /api/session gives)."""
    site.cli("users", "create", email, "--name", name, *(["--confirmed"] if confirmed else []),
             "--password-stdin", stdin=PASSWORD + "\n")
    return str(json.loads(site.cli("users", "show", email, "--json"))["account"]["id"])


def wordpress_user(site: Site, email: str, role: str = "editor") -> int:
    """A WordPress user made the old way (its own password, or the Facebook-only plugin)."""
    return int(site.wordpress.php(
        f"echo wp_insert_user(['user_login' => {json.dumps(email.split('@')[0])}, "
        f"'user_email' => {json.dumps(email)}, 'user_pass' => wp_generate_password(), "
        f"'role' => {json.dumps(role)}]);"))


# --- the journeys ---------------------------------------------------------------------------


def test_the_sign_in_page_offers_continue_with_and_the_local_sign_in(site: Site):
    page = Browser().open(site.wordpress.page)
    assert page.status == 200
    assert 'class="auth-service-login asl-large"' in block(page)
    [(kind, href, text)] = buttons(page)
    assert (kind, text) == ("other", "Continue with Demo ID")
    assert parse_qs(urlsplit(href).query)["provider"] == ["demo"]
    local = LOCAL.search(block(page))
    assert local and local.group(2) == "Sign in with your email"
    # The page's own words around the shortcode are still there.
    assert "For faster login or register use your social account." in page.text
    assert "Account details will be confirmed via email." in page.text


def test_password_sign_in_signs_the_reader_in_to_wordpress(site: Site):
    browser = Browser()
    assert not signed_in_to_wordpress(site, browser)
    page = sign_in_with_password(site, browser)
    face = block(page)
    assert "asl-face" in face and f"Signed in as <strong>{NAME}</strong>" in face
    assert signed_in_to_wordpress(site, browser)
    sub = str(site.service.users[EMAIL])
    [wp_user] = site.wp_users(sub)
    role = site.wordpress.php(f"echo implode(',', get_userdata({wp_user})->roles);")
    assert role == "subscriber"

    # Another browser, another sign-in: the same WordPress user, found by its subject.
    again = Browser()
    sign_in_with_password(site, again)
    assert signed_in_to_wordpress(site, again)
    assert site.wp_users(sub) == [wp_user]


def test_continue_with_the_demo_provider_goes_straight_there_and_back(site: Site):
    site.demo.set_user("demo-reader-1", email="kofi@example.com", email_verified=True,
                       name="Kofi Mensah", picture="https://pictures.example/kofi.png")
    browser = Browser()
    [(_, href, _)] = buttons(browser.open(site.wordpress.page))
    _, url = follow(browser, href)
    assert url.startswith(site.demo.base), url  # no stop at the service's /login
    back, back_url = follow(browser, provider_login(url, "demo-reader-1"))
    assert back_url == site.wordpress.page
    face = block(back)
    assert "Signed in as <strong>Kofi Mensah</strong>" in face
    assert '<img src="https://pictures.example/kofi.png"' in face.replace(
        ' decoding="async" loading="lazy"', "")
    assert signed_in_to_wordpress(site, browser)
    row = json.loads(site.wordpress.php(
        "echo json_encode(get_user_by('email', 'kofi@example.com')->to_array());"))
    assert row["display_name"] == "Kofi Mensah"


def test_signing_out_on_the_service_signs_the_reader_out_of_wordpress(site: Site):
    browser = Browser()
    sign_in_with_password(site, browser)
    other_device = Browser()
    sign_in_with_password(site, other_device)
    # Sign out on the service (its /logout form), in the first browser only.
    form = browser.open(site.service.base + "/logout")
    token = CSRF.search(form.text)
    assert token, form.text[:300]
    done = browser.open(site.service.base + "/logout", {"csrf_token": token.group(1)})
    assert done.status in (302, 303), done.status
    # The service delivers the logout token like its mail: by the worker.
    site.cli("worker", "--once")
    assert not signed_in_to_wordpress(site, browser)
    assert "asl-face" not in block(browser.open(site.wordpress.page))
    # The reader's other session, on the service and so on WordPress, goes on.
    assert signed_in_to_wordpress(site, other_device)


def test_logging_out_of_wordpress_ends_the_service_session(site: Site):
    browser = Browser()
    page = sign_in_with_password(site, browser)
    assert browser.cookie() is not None
    log_out = LOG_OUT.search(block(page))
    assert log_out, block(page)
    home, home_url = follow(browser, html.unescape(log_out.group(1)))
    assert home.status == 200
    assert home_url == site.wordpress.url("/"), home_url
    assert not signed_in_to_wordpress(site, browser)
    check = browser.open(site.service.base + "/api/session")
    assert check.status == 401, check.text


def test_hide_if_logged_hides_the_buttons_for_a_signed_in_reader(site: Site):
    hidden = site.wordpress.add_page("Hidden box", '[fbl_login_button redirect="" '
                                     'hide_if_logged="true" size="large" type="continue_with" '
                                     'show_face="true"]')
    buttons_only = site.wordpress.add_page("Buttons", "[auth_service_login show_face=false]")
    browser = Browser()
    assert buttons(browser.open(hidden)) and buttons(browser.open(buttons_only))
    sign_in_with_password(site, browser, page_url=hidden)
    assert signed_in_to_wordpress(site, browser)
    assert block(browser.open(hidden)) == ""
    # Signed in without show_face or hide_if_logged: the buttons, as the widget shows them.
    assert [text for _, _, text in buttons(browser.open(buttons_only))] == [
        "Continue with Demo ID"]


def test_unknown_attribute_values_fall_back_as_the_widgets_do(site: Site):
    odd = site.wordpress.add_page("Odd", '[auth_service_login size="huge" type="shout"]')
    small = site.wordpress.add_page("Small", '[fbl_login_button size="SMALL" type="login_with"]')
    redirect = site.wordpress.add_page("Away", '[fbl_login_button redirect="https://evil.example/"]')
    browser = Browser()
    page = browser.open(odd)
    assert 'class="auth-service-login asl-medium"' in block(page)
    assert [text for _, _, text in buttons(page)] == ["Continue with Demo ID"]
    page = browser.open(small)
    assert 'class="auth-service-login asl-small"' in block(page)
    assert [text for _, _, text in buttons(page)] == ["Log in with Demo ID"]
    # A redirect to another site is not followed: the reader comes back to this page.
    [(_, href, _)] = buttons(browser.open(redirect))
    assert parse_qs(urlsplit(href).query)["redirect_to"] == [redirect]


# --- who the reader is on WordPress ---------------------------------------------------------


def test_an_existing_wordpress_user_is_linked_when_the_address_is_verified(site: Site):
    # A reader who used the Facebook-only plugin has a WordPress user with their address;
    # continuing with a provider that verified it lands in that same user.
    existing = wordpress_user(site, "amara@example.com")
    site.demo.set_user("demo-amara", email="amara@example.com", email_verified=True,
                       name="Amara Okafor")
    browser = Browser()
    [(_, href, _)] = buttons(browser.open(site.wordpress.page))
    _, url = follow(browser, href)
    back, _ = follow(browser, provider_login(url, "demo-amara"))
    assert "Signed in as <strong>" in block(back)
    sub = json.loads(site.cli("users", "show", "amara@example.com", "--json"))["account"]["id"]
    assert site.wp_users(str(sub)) == [existing]
    roles = site.wordpress.php(f"echo implode(',', get_userdata({existing})->roles);")
    assert roles == "editor"  # linking changes nobody's role


def test_an_unverified_address_never_opens_an_existing_wordpress_user(site: Site):
    existing = wordpress_user(site, "noor@example.com", role="administrator")
    sub = service_user(site, "noor@example.com", "Not Noor", confirmed=False)
    browser = Browser()
    refused = sign_in_with_password(site, browser, "noor@example.com",
                                    stop=site.wordpress.url("/?auth-service=callback"))
    page = browser.open(refused.location)
    assert page.status == 409
    assert "already has an account with your email address" in html.unescape(page.text)
    assert not signed_in_to_wordpress(site, browser)
    assert site.wp_users(sub) == []
    assert site.wordpress.php(f"echo get_user_meta({existing}, 'auth_service_sub', true);") == ""


def test_a_new_reader_with_an_unverified_address_gets_a_user_without_it(site: Site):
    sub = service_user(site, "tariq@example.com", "Tariq", confirmed=False)
    browser = Browser()
    sign_in_with_password(site, browser, "tariq@example.com")
    assert signed_in_to_wordpress(site, browser)
    [user] = site.wp_users(sub)
    # WordPress would send password resets to it: only a verified address is kept.
    assert site.wordpress.php(f"echo get_userdata({user})->user_email;") == ""



def test_new_readers_get_the_configured_role_but_never_an_administrators(site: Site):
    constants = {"AUTH_SERVICE_URL": site.service.base, "AUTH_SERVICE_CLIENT_ID": site.client_id,
                 "AUTH_SERVICE_CLIENT_SECRET": site.client_secret}
    try:
        for role, expected in (("contributor", "contributor"), ("administrator", "subscriber")):
            site.wordpress.configure(**constants, AUTH_SERVICE_DEFAULT_ROLE=role)
            sub = service_user(site, f"new-{role}@example.com", f"New {role}")
            sign_in_with_password(site, Browser(), f"new-{role}@example.com")
            [user] = site.wp_users(sub)
            assert site.wordpress.php(f"echo implode(',', get_userdata({user})->roles);") == (
                expected)
    finally:
        site.wordpress.configure(**constants)

# --- what the plugin refuses ----------------------------------------------------------------


def test_a_callback_is_used_once_and_only_in_the_browser_that_started_it(site: Site):
    reader = Browser()
    callback = sign_in_with_password(site, reader,
                                     stop=site.wordpress.url("/?auth-service=callback"))
    url = urljoin(site.service.base, callback.location)
    thief = Browser()  # the callback URL, taken to another browser (login CSRF, a leaked link)
    stolen = thief.open(url)
    assert stolen.status == 400
    assert "started in another browser" in html.unescape(stolen.text)
    assert not signed_in_to_wordpress(site, thief)
    # The reader's own browser still completes it, once.
    done, done_url = follow(reader, url)
    assert done_url == site.wordpress.page and "asl-face" in block(done)
    replayed = reader.open(url)
    assert replayed.status == 400
    assert "expired" in html.unescape(replayed.text)


def test_a_cancelled_or_forged_answer_signs_nobody_in(site: Site):
    browser = Browser()
    callback = site.wordpress.url("/?auth-service=callback")

    def started() -> str:
        """Click "Sign in with your email"; the state the plugin sent to the service."""
        page = browser.open(site.wordpress.page)
        start = browser.open(html.unescape(LOCAL.search(block(page)).group(1)))
        return parse_qs(urlsplit(start.location).query)["state"][0]

    cancelled = browser.open(f"{callback}&state={started()}&error=access_denied")
    assert cancelled.status == 400 and "Sign-in was cancelled." in cancelled.text
    assert "Back to the site" in cancelled.text
    forged_code = browser.open(f"{callback}&state={started()}&code=made-up")
    assert forged_code.status == 400
    assert "refused this sign-in" in html.unescape(forged_code.text)
    other_issuer = browser.open(f"{callback}&state={started()}&code=x&iss=https://evil.example")
    assert other_issuer.status == 400
    assert "does not come from the sign-in service" in other_issuer.text
    unknown_state = browser.open(f"{callback}&state=nothing-we-sent&code=x")
    assert unknown_state.status == 400
    assert not signed_in_to_wordpress(site, browser)


def test_the_back_channel_endpoint_takes_only_the_services_logout_tokens(site: Site):
    endpoint = site.wordpress.url("/?auth-service=backchannel-logout")
    browser = Browser()
    sign_in_with_password(site, browser)
    # A token the service signed, but not a logout token for this site: a session token.
    session_token = json.loads(browser.open(site.service.base + "/api/session/token").text)
    for data in (None, {}, {"logout_token": "not-a-token"},
                 {"logout_token": session_token["token"]}):
        answer = Browser().open(endpoint, data)
        assert answer.status == 400, (data, answer.status)
        assert json.loads(answer.text)["error"] == "invalid_request"
    assert signed_in_to_wordpress(site, browser)


def test_the_plugin_writes_no_warnings_and_no_tokens_to_the_logs(site: Site):
    sign_in_with_password(site, Browser())
    log = site.wordpress.debug_log()
    plugin_lines = [line for line in log.splitlines() if "auth-service-login" in line]
    assert [line for line in plugin_lines if "PHP " in line] == []
    assert "eyJ" not in log  # no JWT (ID, access or logout token) in any form
