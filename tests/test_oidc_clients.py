"""`auth-service clients add|list|show|remove|rotate-secret`: content sites as OpenID clients."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from auth_service.models import OAuthClient
from auth_service.models.oidc import digest

CB = "https://blog.example/?auth-service=callback"


def add(runner, *args):
    result = runner.invoke(["clients", "add", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_add_prints_the_id_and_secret_once_and_stores_a_hash(runner, db_session):
    printed = add(runner, "Blog", "--redirect-uri", CB, "--post-logout-redirect-uri",
                  "https://blog.example/", "--backchannel-logout-uri",
                  "https://blog.example/?auth-service=backchannel-logout")
    assert set(printed) == {"client_id", "client_secret"}
    assert len(printed["client_secret"]) >= 43
    row = db_session.scalar(select(OAuthClient).where(
        OAuthClient.client_id == printed["client_id"]))
    assert row.secret_hash == digest(printed["client_secret"])
    assert row.redirect_uris == [CB]
    assert row.backchannel_logout_uri.endswith("backchannel-logout")
    shown = runner.invoke(["clients", "show", printed["client_id"]]).output
    assert printed["client_secret"] not in shown and row.secret_hash not in shown
    details = json.loads(shown)
    assert details["name"] == "Blog" and details["first_party"] is False
    assert details["post_logout_redirect_uris"] == ["https://blog.example/"]


def test_a_public_client_has_no_secret(runner):
    printed = add(runner, "App", "--redirect-uri", "https://app.example/cb", "--public",
                  "--first-party")
    assert printed["client_secret"] is None
    details = json.loads(runner.invoke(["clients", "show", printed["client_id"]]).output)
    assert details["public"] is True and details["token_endpoint_auth_method"] == "none"
    result = runner.invoke(["clients", "rotate-secret", printed["client_id"]])
    assert result.exit_code == 1 and "no secret" in result.output


def test_list_and_remove(runner):
    one = add(runner, "One", "--redirect-uri", "https://one.example/cb")
    add(runner, "Two", "--redirect-uri", "https://two.example/cb", "--first-party")
    table = runner.invoke(["clients", "list"]).output
    assert "One" in table and "Two" in table and one["client_id"] in table
    lines = runner.invoke(["clients", "list", "--json"]).output.splitlines()
    assert [json.loads(line)["name"] for line in lines] == ["One", "Two"]
    assert runner.invoke(["clients", "remove", one["client_id"]]).exit_code == 0
    assert one["client_id"] not in runner.invoke(["clients", "list"]).output
    result = runner.invoke(["clients", "remove", one["client_id"]])
    assert result.exit_code == 1 and "no client" in result.output


def test_rotate_secret_replaces_it(runner, db_session):
    printed = add(runner, "Blog", "--redirect-uri", CB)
    result = runner.invoke(["clients", "rotate-secret", printed["client_id"]])
    assert result.exit_code == 0
    rotated = json.loads(result.output)
    assert rotated["client_id"] == printed["client_id"]
    assert rotated["client_secret"] != printed["client_secret"]
    row = db_session.scalar(select(OAuthClient).where(
        OAuthClient.client_id == printed["client_id"]))
    assert row.secret_hash == digest(rotated["client_secret"])


@pytest.mark.parametrize("uri", ["/relative", "ftp://x.example/cb", "https://x.example/cb#frag",
                                 "https://user:pw@x.example/cb", "https://x.example/c b"])
def test_bad_uris_are_refused_in_one_line(runner, uri):
    result = runner.invoke(["clients", "add", "X", "--redirect-uri", uri])
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and "Traceback" not in result.output


@pytest.mark.settings(ENV="production", SECRET_KEY="s" * 40, MAIL_BACKEND="smtp")
def test_plain_http_only_for_this_machine_in_production(runner):
    result = runner.invoke(["clients", "add", "X", "--redirect-uri", "http://blog.example/cb"])
    assert result.exit_code == 1 and "https" in result.output
    assert runner.invoke(["clients", "add", "X", "--redirect-uri",
                          "http://127.0.0.1:8080/cb"]).exit_code == 0


def test_usage_errors(runner):
    assert runner.invoke(["clients", "add", "X"]).exit_code == 2
    assert runner.invoke(["clients", "show"]).exit_code == 2
    for command in (["clients", "add", "--help"], ["keys", "rotate", "--help"]):
        assert "Example:" in runner.invoke(command).output
