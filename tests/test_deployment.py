"""docker-compose.yml and the Dockerfile agree with the code.

No Docker engine runs where the tests run, so the compose file is checked for
what breaks silently: a misspelt AUTH_* variable (ignored at start-up), a
command the console script does not have, a file the image does not contain.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest
import yaml

from auth_service.cli import cli
from auth_service.config import PREFIX, SETTINGS

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
KNOWN = {PREFIX + s.name for s in SETTINGS}


def gunicorn_settings(monkeypatch, tmp_path) -> dict:
    """What gunicorn.conf.py sets, read as gunicorn reads it (it sets the metrics folder)."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_compose_has_the_production_shape():
    assert {"auth", "worker", "migrate", "postgres", "redis", "mailpit", "site"} <= set(
        COMPOSE["services"])


@pytest.mark.parametrize("service", ["auth", "worker", "migrate"])
def test_every_auth_variable_is_a_real_setting(service):
    environment = COMPOSE["services"][service]["environment"]
    unknown = {name for name in environment if name not in KNOWN}
    assert not unknown, f"{service}: settings the service would ignore: {unknown}"
    assert environment["AUTH_ENV"] == "production"
    assert environment["AUTH_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert environment["AUTH_REDIS_URL"].startswith("redis://")


@pytest.mark.parametrize("service", ["auth", "worker", "migrate"])
def test_commands_exist_in_the_console_script(runner, service):
    command = COMPOSE["services"][service]["command"]
    assert command[0] == "auth-service"
    result = runner.invoke([*command[1:], "--help"])
    assert result.exit_code == 0, result.output


def test_the_image_holds_what_the_app_needs():
    copied = [name for line in re.findall(r"^COPY (.+) \S+$", DOCKERFILE, re.M)
              for name in line.split()]
    for needed in ("auth_service", "templates", "migrations", "pyproject.toml",
                   "gunicorn.conf.py", "examples"):
        assert needed in copied, needed
        assert (ROOT / needed).exists(), needed
    assert '"auth-service", "serve"' in DOCKERFILE
    assert cli.name == "auth-service"


def test_the_demo_site_links_to_the_public_url():
    site = COMPOSE["services"]["site"]["environment"]
    assert site["AUTH_SERVICE_URL"] == "http://auth:8000"
    assert site["AUTH_SERVICE_PUBLIC_URL"] == COMPOSE["x-auth-environment"]["AUTH_BASE_URL"]
    assert "http://localhost:5001" in COMPOSE["x-auth-environment"]["AUTH_TRUSTED_ORIGINS"]


@pytest.mark.parametrize(("provider_timeout", "at_least"), [("10", 40), ("20", 80), ("x", 40)])
def test_a_sync_worker_outlives_the_slowest_sign_in(monkeypatch, tmp_path, provider_timeout,
                                                    at_least):
    # A sync worker serving a social sign-in is silent until its provider calls end
    # (up to four, each AUTH_PROVIDER_TIMEOUT): gunicorn must not kill it first.
    monkeypatch.setenv("AUTH_PROVIDER_TIMEOUT", provider_timeout)
    settings = gunicorn_settings(monkeypatch, tmp_path)
    assert settings["worker_class"] == "sync"
    assert settings["timeout"] > at_least
