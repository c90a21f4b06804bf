"""Configuration from the AUTH_* environment: defaults, parsing, and clear start-up errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from auth_service import settings_doc
from auth_service.config import SETTINGS, ConfigError, load

CLI = str(Path(sys.executable).with_name("auth-service"))


def config(tmp_path: Path, **environ: str) -> dict:
    return load(str(tmp_path / "instance"), environ=environ)


def test_development_defaults(tmp_path):
    values = config(tmp_path)
    assert values["ENV"] == "development"
    assert values["BASE_URL"] == "http://127.0.0.1:5000"
    assert values["TRUSTED_ORIGINS"] == ("http://127.0.0.1:5000",)
    assert values["MAIL_BACKEND"] == "console"
    assert values["REQUIRE_CONFIRMED_EMAIL"] is True
    assert values["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'auth.db'}"
    # The development secret is generated once and kept, readable by the owner only.
    secret_file = tmp_path / "instance" / "secret_key"
    assert values["SECRET_KEY"] == secret_file.read_text()
    assert len(values["SECRET_KEY"]) == 64
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    assert config(tmp_path)["SECRET_KEY"] == values["SECRET_KEY"]


def test_environment_is_parsed(tmp_path):
    values = config(
        tmp_path,
        AUTH_BASE_URL="https://login.example.com/",
        AUTH_TRUSTED_ORIGINS="https://www.example.com, https://shop.example.com:443",
        AUTH_REQUIRE_CONFIRMED_EMAIL="false",
        AUTH_MAIL_PORT="2525",
        AUTH_DATABASE_URL="postgresql+psycopg://u@db/auth",
    )
    assert values["BASE_URL"] == "https://login.example.com"
    assert values["TRUSTED_ORIGINS"] == (
        "https://login.example.com", "https://www.example.com", "https://shop.example.com")
    assert values["REQUIRE_CONFIRMED_EMAIL"] is False
    assert values["MAIL_PORT"] == 2525
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/auth"


@pytest.mark.parametrize(("environ", "variable"), [
    ({"AUTH_MAIL_PORT": "twenty-five"}, "AUTH_MAIL_PORT"),
    ({"AUTH_REQUIRE_CONFIRMED_EMAIL": "maybe"}, "AUTH_REQUIRE_CONFIRMED_EMAIL"),
    ({"AUTH_BASE_URL": "login.example.com"}, "AUTH_BASE_URL"),
    ({"AUTH_TRUSTED_ORIGINS": "https://ok.example, javascript:alert(1)"}, "AUTH_TRUSTED_ORIGINS"),
    ({"AUTH_MAIL_BACKEND": "carrier-pigeon"}, "AUTH_MAIL_BACKEND"),
    ({"AUTH_ENV": "staging"}, "AUTH_ENV"),
    ({"AUTH_ENV": "production"}, "AUTH_SECRET_KEY"),
    ({"AUTH_ENV": "production", "AUTH_SECRET_KEY": "short"}, "AUTH_SECRET_KEY"),
    ({"AUTH_ENV": "production", "AUTH_SECRET_KEY": "s" * 40, "AUTH_MAIL_BACKEND": "console"},
     "AUTH_MAIL_BACKEND"),
    ({"AUTH_MAIL_USE_TLS": "true", "AUTH_MAIL_USE_SSL": "true"}, "AUTH_MAIL_USE_SSL"),
    ({"AUTH_OIDC_PARTNER_CLIENT_ID": "x", "AUTH_OIDC_PARTNER_CLIENT_SECRET": "y"},
     "AUTH_OIDC_PARTNER_DISCOVERY_URL"),
])
def test_bad_configuration_names_the_variable(tmp_path, environ, variable):
    with pytest.raises(ConfigError) as error:
        config(tmp_path, **environ)
    assert error.value.variable == variable
    assert str(error.value).startswith(f"{variable}: ")


def test_production_with_a_secret_starts(tmp_path):
    values = config(tmp_path, AUTH_ENV="production", AUTH_SECRET_KEY="k" * 40)
    assert values["MAIL_BACKEND"] == "smtp"
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_console_script_reports_bad_configuration_in_one_line(tmp_path):
    environ = {**os.environ, "AUTH_ENV": "production", "AUTH_INSTANCE_PATH": str(tmp_path)}
    environ.pop("AUTH_SECRET_KEY", None)
    result = subprocess.run([CLI, "db", "current"], env=environ, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "auth-service: configuration error: AUTH_SECRET_KEY: required in production "
        "(e.g. `openssl rand -hex 32`)"
    ]
    assert "Traceback" not in result.stderr


def test_the_readmes_configuration_table_is_the_settings_own():
    # README's table is written from config.py by `make docs`; a setting added, renamed or
    # re-documented without running it leaves the two saying different things.
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert settings_doc.rewrite(readme) == readme, "run `make docs` and commit README.md"
    for setting in SETTINGS:
        assert f"| `AUTH_{setting.name}` |" in readme
