"""The WordPress plugin's parts a reader never sees, in a real WordPress: token checks, settings.

The token checks run the plugin's PHP (openssl) inside the installed WordPress
on tokens signed here in Python, each broken in one way an attacker would try.
The settings page is driven as an administrator would, over HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import time
from urllib.parse import urljoin

import pytest
from joserfc import jwk, jwt

from tests.conftest import free_port
from tests.live import Browser, Page
from tests.wordpress import ADMIN, WordPress, require_wordpress

require_wordpress()

ISSUER = "https://auth.example.test"
CLIENT = "wp-client"
RSA = jwk.RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
EC = jwk.ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
OTHER_RSA = jwk.RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})


def jwks(*keys: jwk.Key, **extra: str) -> dict:
    return {"keys": [{**key.as_dict(private=False), **extra} for key in keys]}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**change: object) -> dict:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": CLIENT, "sub": "42", "iat": now, "exp": now + 300,
            "nonce": "n-1"}
    base.update(change)
    return {name: value for name, value in base.items() if value is not None}


def signed(key: jwk.Key, alg: str, body: dict | None = None, **header: str) -> str:
    return jwt.encode({"alg": alg, "kid": key.kid, **header}, body or claims(), key,
                      algorithms=[alg])


def unsigned(header: dict, body: dict, signature: bytes = b"") -> str:
    return ".".join((b64(json.dumps(header).encode()), b64(json.dumps(body).encode()),
                     b64(signature)))


def check(wordpress: WordPress, *cases: tuple[str, dict]) -> list[dict]:
    """Run the plugin's verify_signature() then check_claims() on each (token, jwks)."""
    code = r"""
    $issuer = getenv('ISSUER'); $client = getenv('CLIENT');
    $out = array();
    foreach (json_decode(stream_get_contents(STDIN), true) as $case) {
        $result = AuthServiceLogin\verify_signature($case[0], $case[1]);
        if (!is_wp_error($result)) {
            $result = AuthServiceLogin\check_claims($result, $issuer, $client) ?: $result;
        }
        $out[] = is_wp_error($result)
            ? array('error' => $result->get_error_code(), 'message' => $result->get_error_message())
            : array('claims' => $result);
    }
    echo json_encode($out);
    """
    return json.loads(wordpress.php(code, stdin=json.dumps(cases),
                                    env={"ISSUER": ISSUER, "CLIENT": CLIENT}))


def test_tokens_signed_with_a_published_key_are_accepted(wordpress: WordPress):
    both = jwks(RSA, EC)
    results = check(wordpress,
                    (signed(RSA, "RS256"), both),
                    (signed(EC, "ES256"), both),
                    # No kid: the only key of the algorithm's type is the one.
                    (jwt.encode({"alg": "RS256"}, claims(), RSA), jwks(RSA)),
                    # A list audience naming this site as the authorized party.
                    (signed(RSA, "RS256", claims(aud=[CLIENT, "other"], azp=CLIENT)), both))
    assert [r.get("claims", {}).get("sub") for r in results] == ["42"] * 4, results


@pytest.mark.filterwarnings("ignore:Key size should be")  # the small key is the point
def test_a_token_cannot_choose_how_it_is_checked(wordpress: WordPress):
    public_pem = RSA.as_pem(private=False)
    hs256_header = {"alg": "HS256", "kid": "rsa-1"}
    body = claims()
    hs256_input = ".".join((b64(json.dumps(hs256_header).encode()),
                            b64(json.dumps(body).encode())))
    forged_hs256 = hs256_input + "." + b64(
        hmac.new(public_pem, hs256_input.encode(), hashlib.sha256).digest())
    genuine = signed(RSA, "RS256")
    head, payload, signature = genuine.split(".")
    other_payload = b64(json.dumps(claims(sub="1")).encode())
    cases = {
        "alg none": (unsigned({"alg": "none", "kid": "rsa-1"}, body), jwks(RSA)),
        "HS256 keyed with the public key": (forged_hs256, jwks(RSA)),
        "signed by another key with the same kid": (signed(OTHER_RSA, "RS256"), jwks(RSA)),
        "payload changed after signing": (f"{head}.{other_payload}.{signature}", jwks(RSA)),
        "signature cut": (f"{head}.{payload}.{signature[:-4]}", jwks(RSA)),
        "RS256 named, only an EC key": (signed(RSA, "RS256", kid="ec-1"), jwks(EC)),
        "key published for another alg": (signed(RSA, "RS256"), jwks(RSA, alg="RS512")),
        "key published for encryption": (signed(RSA, "RS256"), jwks(RSA, use="enc")),
        "RS512 (not pinned)": (signed(RSA, "RS512"), jwks(RSA)),
        "a 1024-bit RSA key": (signed(small := jwk.RSAKey.generate_key(
            1024, parameters={"kid": "small"}, private=True), "RS256"), jwks(small)),
        "two keys, no kid": (jwt.encode({"alg": "RS256"}, body, RSA),
                             {"keys": [*jwks(RSA)["keys"], *jwks(OTHER_RSA)["keys"]]}),
        "not a JWT": ("not-a-token", jwks(RSA)),
        "four parts": (genuine + ".x", jwks(RSA)),
    }
    results = check(wordpress, *cases.values())
    accepted = [what for what, result in zip(cases, results, strict=True) if "claims" in result]
    assert accepted == []
    assert all(r["error"] == "auth_service_bad_token" for r in results[:2]), results


def test_an_unknown_key_id_asks_for_the_keys_again(wordpress: WordPress):
    # A kid the cached JWKS lacks is how a key rotation shows: the plugin refetches on it.
    [result] = check(wordpress, (signed(RSA, "RS256", kid="rotated"), jwks(RSA)))
    assert result["error"] == "auth_service_unknown_key"


def test_claims_not_meant_for_this_site_are_refused(wordpress: WordPress):
    now = int(time.time())
    cases = {
        "issuer": claims(iss="https://evil.example"),
        "issuer with a slash": claims(iss=ISSUER + "/"),
        "audience": claims(aud="another-site"),
        "audience list without azp": claims(aud=[CLIENT, "other"]),
        "expiry": claims(exp=now - 3600),
        "expiry missing": claims(exp=None),
        "expiry as text": claims(exp=str(now + 300)),
        "issue time": claims(iat=now + 3600),
    }
    results = check(wordpress, *((signed(RSA, "RS256", body), jwks(RSA))
                                 for body in cases.values()))
    for (what, _), result in zip(cases.items(), results, strict=True):
        assert result.get("error") == "auth_service_bad_token", (what, result)
        assert what.split()[0] in result["message"], result


# --- the settings page ----------------------------------------------------------------------

SETTINGS = "/wp-admin/options-general.php?page=auth-service-login"
INPUT = re.compile(r"<(input|select)\b([^>]*)>")
ATTR = re.compile(r"""([\w-]+)(?:=(?:"([^"]*)"|'([^']*)'))?""")


def admin(wordpress: WordPress) -> Browser:
    """A browser signed in to wp-admin as the site's administrator, by its login form."""
    browser = Browser()
    browser.open(wordpress.url("/wp-login.php"))  # sets WordPress's test cookie
    page = browser.open(wordpress.url("/wp-login.php"), {
        "log": ADMIN, "pwd": wordpress.admin_password, "wp-submit": "Log In",
        "redirect_to": wordpress.url("/wp-admin/"), "testcookie": "1"})
    assert page.status == 302 and "/wp-admin/" in page.location, page.text[:500]
    return browser


def fields(page: Page) -> dict[str, dict[str, str]]:
    """The settings form's inputs and selects by name, with their attributes."""
    form = page.text[page.text.index('action="options.php"'):]
    found = {}
    for _, attributes in INPUT.findall(form[:form.index("</form>")]):
        attrs = {name: html.unescape(double or single)
                 for name, double, single in ATTR.findall(attributes)}
        if "name" in attrs:
            found[attrs["name"]] = attrs
    return found


def save(browser: Browser, wordpress: WordPress, **values: str) -> Page:
    """Submit the settings form with ``values``, the rest as the page shows them; the next page."""
    page = browser.open(wordpress.url(SETTINGS))
    assert page.status == 200, page.status
    form = fields(page)
    data = {name: attrs.get("value", "") for name, attrs in form.items()
            if "disabled" not in attrs and attrs.get("type") != "submit"}
    for name, value in values.items():
        data[f"auth_service_login[{name}]"] = value
    answer = browser.open(wordpress.url("/wp-admin/options.php"), data)
    assert answer.status == 302, answer.text[:500]
    return browser.open(urljoin(wordpress.base, answer.location))


def saved(wordpress: WordPress, name: str) -> str:
    return wordpress.php(f"echo AuthServiceLogin\\setting('{name}');")


def test_the_settings_page_names_the_addresses_to_register(wordpress: WordPress):
    wordpress.reset()
    page = admin(wordpress).open(wordpress.url(SETTINGS))
    text = html.unescape(page.text)
    for uri in (wordpress.url("/?auth-service=callback"),
                wordpress.url("/?auth-service=backchannel-logout"), wordpress.url("/")):
        assert f"<code>{uri}</code>" in text
    assert (f"--redirect-uri '{wordpress.url('/?auth-service=callback')}'" in text
            and "--first-party" in text)
    assert "Not connected yet" in text


def test_settings_are_validated_and_a_bad_value_keeps_the_saved_one(wordpress: WordPress):
    wordpress.reset()
    browser = admin(wordpress)
    page = save(browser, wordpress, url="https://auth.example.test/", client_id="wp-site",
                default_role="author", size="large", type="sign_in_with", show_face="1")
    assert "Settings saved." in page.text
    assert [saved(wordpress, name) for name in ("url", "client_id", "default_role", "size",
                                                "type", "show_face")] == [
        "https://auth.example.test", "wp-site", "author", "large", "sign_in_with", "1"]

    page = save(browser, wordpress, url="javascript:alert(1)", client_id="has spaces",
                default_role="administrator", size="huge", type="shout")
    text = html.unescape(page.text)
    assert "Service URL: give the service's base URL" in text
    assert "Client ID: printable characters without spaces" in text
    assert "a role that can change the site's settings is not given to every reader" in text
    assert [saved(wordpress, name) for name in ("url", "client_id", "default_role")] == [
        "https://auth.example.test", "wp-site", "author"]
    # Unknown button choices fall back to the defaults, as the widget's do.
    assert [saved(wordpress, "size"), saved(wordpress, "type")] == ["medium", "continue_with"]

    page = save(browser, wordpress, default_role="no-such-role")
    assert "choose one of the site's roles" in html.unescape(page.text)
    assert saved(wordpress, "default_role") == "author"


def test_the_client_secret_is_never_shown_back(wordpress: WordPress):
    wordpress.reset()
    browser = admin(wordpress)
    secret = "s3cret-" + "q" * 40
    page = save(browser, wordpress, url="https://auth.example.test", client_id="wp-site",
                client_secret=secret)
    assert secret not in page.text
    assert fields(page)["auth_service_login[client_secret]"]["value"] == ""
    assert "saved — leave empty to keep it" in html.unescape(page.text)
    # Saving the form again (the secret field empty, as the page gives it) keeps the secret.
    page = save(browser, wordpress, size="small")
    assert secret not in page.text
    assert saved(wordpress, "client_secret") == secret
    assert secret not in wordpress.debug_log()


def test_wp_config_constants_override_the_settings_page(wordpress: WordPress):
    wordpress.reset()
    browser = admin(wordpress)
    save(browser, wordpress, url="https://saved.example.test", client_id="saved-client")
    wordpress.configure(AUTH_SERVICE_URL="https://auth.example.test",
                        AUTH_SERVICE_CLIENT_ID="constant-client",
                        AUTH_SERVICE_CLIENT_SECRET="constant-secret-value",
                        AUTH_SERVICE_DEFAULT_ROLE="contributor")
    page = browser.open(wordpress.url(SETTINGS))
    form = fields(page)
    for name in ("url", "client_id", "client_secret", "default_role"):
        assert "disabled" in form[f"auth_service_login[{name}]"], name
    for constant in ("AUTH_SERVICE_URL", "AUTH_SERVICE_CLIENT_ID", "AUTH_SERVICE_CLIENT_SECRET",
                     "AUTH_SERVICE_DEFAULT_ROLE"):
        assert f"Set by <code>{constant}</code> in wp-config.php." in page.text
    assert "constant-secret-value" not in page.text
    assert form["auth_service_login[url]"]["value"] == "https://auth.example.test"
    assert [saved(wordpress, name) for name in ("url", "client_id", "default_role")] == [
        "https://auth.example.test", "constant-client", "contributor"]
    # The read-only fields are not sent; what the page saved stays for when the constants go.
    save(browser, wordpress, size="large")
    stored = json.loads(wordpress.php("echo json_encode(get_option('auth_service_login'));"))
    assert (stored["url"], stored["client_id"], stored["size"]) == (
        "https://saved.example.test", "saved-client", "large")


def test_a_service_that_does_not_answer_gives_a_plain_message(wordpress: WordPress):
    wordpress.reset()
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    wordpress.configure(AUTH_SERVICE_URL=nowhere, AUTH_SERVICE_CLIENT_ID="wp-site",
                        AUTH_SERVICE_CLIENT_SECRET="s3cret-value")
    try:
        page = Browser().open(wordpress.page)
        assert page.status == 200
        assert "Sign-in is not available right now.</p>" in page.text  # no reason for readers
        assert nowhere not in page.text
        start = Browser().open(wordpress.url("/?auth-service=login"))
        assert start.status == 503
        assert "Sign-in is not available right now. Please try again in a moment." in start.text
        assert nowhere not in start.text
        # The administrator sees why, where the buttons would be and on the settings page.
        buttons = wordpress.add_page("Buttons", '[auth_service_login show_face="false"]')
        browser = admin(wordpress)
        assert "cannot be reached" in browser.open(buttons).text
        assert "The service does not answer" in browser.open(wordpress.url(SETTINGS)).text
    finally:
        wordpress.reset()
