"""The content site's brand on the service's pages and emails, from configuration alone."""

from __future__ import annotations

import logging

import pytest

from auth_service import create_app
from auth_service.branding import DARK_CARD, contrast, for_dark, ink_on
from auth_service.config import ConfigError, read_environment
from tests.conftest import register

BRAND = {"SITE_NAME": "Red Africa Travel", "LOGO_URL": "https://cdn.example/logo.png",
         "ACCENT_COLOR": "#1A5FB4", "SUPPORT_EMAIL": "help@redafrica.example",
         "TERMS_URL": "https://redafrica.example/terms",
         "PRIVACY_URL": "https://redafrica.example/privacy"}


@pytest.mark.settings(**BRAND)
def test_pages_carry_the_sites_name_logo_and_links(browser):
    browser.get("/login")
    page = browser.last_page
    assert 'src="https://cdn.example/logo.png"' in page
    assert "Red Africa Travel" in page
    assert 'href="mailto:help@redafrica.example"' in page
    assert 'href="https://redafrica.example/terms"' in page
    assert 'href="https://redafrica.example/privacy"' in page


@pytest.mark.settings(**BRAND)
def test_the_accent_colour_reaches_buttons_and_links_through_a_stylesheet(client):
    css = client.get("/brand.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    text = css.get_data(as_text=True)
    assert "--accent: #1a5fb4" in text and "--accent-ink: #ffffff" in text
    dark = for_dark("#1a5fb4")
    assert f"--accent: {dark}" in text and contrast(dark, DARK_CARD) >= 4.5
    # No inline style on the pages: the Content-Security-Policy (style-src 'self') holds.
    assert "style=" not in client.get("/login").get_data(as_text=True)
    assert "/brand.css" in client.get("/login").get_data(as_text=True)


@pytest.mark.settings(**BRAND)
def test_emails_carry_the_brand(browser, deliver, mailbox):
    register(browser, "ann@example.com")
    deliver()
    html = mailbox.html(mailbox.last("ann@example.com"))
    assert "https://cdn.example/logo.png" in html
    assert "help@redafrica.example" in html
    assert "background:#1a5fb4;color:#ffffff" in html


def test_a_label_takes_the_colour_that_reads_on_its_button():
    assert ink_on("#1a5fb4") == "#ffffff"
    assert ink_on("#ffcc00") == "#111111"


@pytest.mark.settings(ACCENT_COLOR="#ffcc00")
def test_a_pale_accent_is_reported_at_start_up_and_by_doctor(app, runner, caplog, settings):
    with caplog.at_level(logging.WARNING, logger="auth_service.views.brand"):
        create_app({**{k: app.config[k] for k in ("SECRET_KEY", "DATABASE_URL",
                                                   "INSTANCE_PATH")}, **settings})
    assert any("AUTH_ACCENT_COLOR #ffcc00" in r.getMessage() and "1.5:1" in r.getMessage()
               for r in caplog.records)
    doctor = runner.invoke(["doctor"]).output
    assert "WARN branding: AUTH_ACCENT_COLOR #ffcc00" in doctor


@pytest.mark.parametrize("variable, value", [("ACCENT_COLOR", "blue"),
                                             ("ACCENT_COLOR", "#12345"),
                                             ("LOGO_URL", "javascript:alert(1)"),
                                             ("SUPPORT_EMAIL", "not an address"),
                                             ("TEMPLATE_FOLDER", "/nonexistent/folder")])
def test_bad_brand_settings_stop_the_start_naming_the_variable(variable, value):
    with pytest.raises(ConfigError, match=f"AUTH_{variable}"):
        read_environment({f"AUTH_{variable}": value})


def test_a_site_overrides_one_template_from_its_own_folder(tmp_path, database_url, settings):
    folder = tmp_path / "site-templates" / "login"
    folder.mkdir(parents=True)
    (folder / "logout.html").write_text('{% extends "base.html" %}{% block content %}'
                                        "<h1>Leaving Red Africa Travel?</h1>{% endblock %}")
    app = create_app({"SECRET_KEY": "x" * 32, "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": database_url, "BASE_URL": "http://auth.test",
                      "TEMPLATE_FOLDER": str(tmp_path / "site-templates")})
    client = app.test_client()
    assert "Leaving Red Africa Travel?" in client.get("/logout").get_data(as_text=True)
    assert "Sign in" in client.get("/login").get_data(as_text=True)  # the rest: ours
