"""``auth-service doctor``: each mistake operators make shows up as WARN or FAIL with its fix."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from auth_service import create_app
from auth_service.cli import cli
from tests.social_support import OIDCProvider, serve, start_oidc_provider


def findings(runner) -> tuple[int, dict[str, str]]:
    result = runner.invoke(["doctor"])
    lines = {}
    for line in result.output.splitlines():
        level, _, rest = line.partition(" ")
        check, _, message = rest.strip().partition(": ")
        if level in {"OK", "WARN", "FAIL"}:
            lines[check] = f"{level} {message}"
    return result.exit_code, lines


def test_a_healthy_development_setup(runner):
    code, lines = findings(runner)
    assert code == 0, lines
    assert lines["migrations"].startswith("OK")
    assert lines["mail"].startswith("OK SMTP 127.0.0.1:")  # the test SMTP server accepts us
    assert lines["cookie domain"].startswith("WARN")  # trusted.example cannot get the cookie
    assert "AUTH_COOKIE_DOMAIN" in lines["cookie domain"]


@pytest.mark.settings(COOKIE_DOMAIN=".example.com", BASE_URL="https://login.example.com",
                      TRUSTED_ORIGINS=("https://www.example.com", "https://other.test"))
def test_cookie_domain_must_cover_the_trusted_origins(runner):
    _, lines = findings(runner)
    assert lines["cookie domain"].startswith("WARN")
    assert "https://other.test" in lines["cookie domain"]


@pytest.mark.settings(COOKIE_DOMAIN=".example.org", BASE_URL="https://login.example.com")
def test_cookie_domain_that_misses_the_service_fails(runner):
    code, lines = findings(runner)
    assert code == 1
    assert lines["cookie domain"].startswith("FAIL")


@pytest.mark.settings(ENV="production", SECRET_KEY="x" * 40, BASE_URL="http://login.example.com")
def test_production_over_http_and_a_guessable_secret_fail(runner):
    code, lines = findings(runner)
    assert code == 1
    assert lines["secure cookies"].startswith("FAIL")
    assert lines["secret key"].startswith("FAIL")
    assert "openssl rand -hex 32" in lines["secret key"]


@pytest.mark.settings(MAIL_PORT=9)
def test_unreachable_smtp_fails_with_the_variables_to_check(runner):
    code, lines = findings(runner)
    assert code == 1
    assert lines["mail"].startswith("FAIL SMTP 127.0.0.1:9 is not usable")
    assert "AUTH_MAIL_SERVER" in lines["mail"]


def test_migrations_behind_fail(runner):
    runner.invoke(["db", "downgrade", "0002"])
    code, lines = findings(runner)
    assert code == 1
    assert "run `auth-service db upgrade`" in lines["migrations"]


def test_providers_are_checked_and_their_redirect_uri_printed(app, settings, runner):
    with serve(start_oidc_provider()) as base:
        provider = OIDCProvider(base)
        config = {**{k: app.config[k] for k in ("SECRET_KEY", "DATABASE_URL", "INSTANCE_PATH",
                                                 "BASE_URL", "MAIL_SERVER", "MAIL_PORT")},
                  "MAIL_BACKEND": "smtp", "OIDC_PARTNER_DISCOVERY_URL": provider.discovery,
                  "OIDC_PARTNER_CLIENT_ID": "c", "OIDC_PARTNER_CLIENT_SECRET": "s",
                  "GITHUB_CLIENT_ID": "c", "GITHUB_CLIENT_SECRET": "s",
                  "GITHUB_AUTHORIZE_URL": "http://127.0.0.1:9/login/oauth/authorize"}
        other = create_app(config).test_cli_runner()
        result = other.invoke(cli, ["doctor"])
    assert result.exit_code == 1  # github is unreachable
    assert ("OK   provider partner: " in result.output
            and "http://auth.test/login/partner/callback" in result.output)
    assert "FAIL provider github" in result.output
    github = next(line for line in result.output.splitlines() if "provider github" in line)
    assert "cannot be reached from here" in github and "discovery document" not in github
    assert "http://auth.test/login/github/callback" in result.output


def test_production_lists_every_configuration_error_then_the_other_checks(
        database_url, tmp_path, monkeypatch):
    for key in [key for key in os.environ if key.startswith("AUTH_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AUTH_ENV", "production")
    monkeypatch.setenv("AUTH_MAIL_BACKEND", "console")
    monkeypatch.setenv("AUTH_MAIL_PORT", "twenty-five")
    monkeypatch.setenv("AUTH_DATABASE_URL", database_url)
    monkeypatch.setenv("AUTH_INSTANCE_PATH", str(tmp_path))
    result = CliRunner().invoke(cli, ["doctor", "--offline"])
    assert result.exit_code == 1
    failed = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert sorted(line.split(": ")[1] for line in failed if "configuration" in line) == [
        "AUTH_MAIL_BACKEND", "AUTH_MAIL_PORT", "AUTH_SECRET_KEY"]
    assert "OK   migrations" in result.output  # the rest was checked all the same
    assert "secret key:" not in result.output  # no verdict on the stand-in secret
    assert os.environ["AUTH_MAIL_PORT"] == "twenty-five"  # the environment is left as it was


@pytest.mark.settings(MAIL_PORT=9, BASE_URL="http://127.0.0.1:9")
def test_offline_skips_every_check_that_reaches_another_host(runner):
    result = runner.invoke(["doctor", "--offline"])
    assert result.exit_code == 0, result.output
    assert "SKIP network: --offline" in result.output
    assert " mail:" not in result.output and " public URL:" not in result.output


FACEBOOK = {"FACEBOOK_CLIENT_ID": "fb", "FACEBOOK_CLIENT_SECRET": "s"}


@pytest.mark.settings(**FACEBOOK)
def test_the_default_facebook_graph_version_is_current(runner):
    _, lines = findings_offline(runner)
    assert lines["facebook"] == "OK Graph API v23.0."


@pytest.mark.settings(**FACEBOOK, FACEBOOK_API_URL="https://graph.facebook.com/v17.0/",
                      FACEBOOK_AUTHORIZE_URL="https://www.facebook.com/v17.0/dialog/oauth")
def test_a_facebook_graph_version_older_than_two_years_is_a_warning(runner, clock):
    _, lines = findings_offline(runner)
    assert lines["facebook"].startswith("WARN the Graph API v17.0 is more than two years old")


def findings_offline(runner) -> tuple[int, dict[str, str]]:
    result = runner.invoke(["doctor", "--offline"])
    lines = {}
    for line in result.output.splitlines():
        level, _, rest = line.partition(" ")
        check, _, message = rest.strip().partition(": ")
        lines[check] = f"{level} {message}"
    return result.exit_code, lines
