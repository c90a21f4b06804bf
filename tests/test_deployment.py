"""docker-compose.yml, .env.example, the Dockerfile and the compose Caddyfile agree with the code.

No Docker engine runs where the tests run, so the compose file is checked for
what breaks silently or dangerously: a misspelt AUTH_* variable (ignored at
start-up), a command the console script does not have, a file the image does
not contain, a service without a health check or a restart policy, an image
that moves under us, a password in the file, a setting .env.example does not
document, a Caddy in front that is not the tested recipe, and a production
configuration that `doctor` would fail.
"""

from __future__ import annotations

import os
import re
import runpy
import secrets
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from auth_service.cli import cli
from auth_service.config import PREFIX, SETTINGS

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
KNOWN = {PREFIX + s.name for s in SETTINGS}
# Provider variables have open-ended names (providers/settings.py).
PROVIDER_VARIABLE = re.compile(
    r"AUTH_(GOOGLE|FACEBOOK|GITHUB)_[A-Z_]+|AUTH_OIDC_[A-Z0-9]+_(DISCOVERY_URL|CLIENT_ID|"
    r"CLIENT_SECRET|LABEL)")
ONE_SHOT = {"migrate"}
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


def env_example() -> dict[str, str]:
    """The variables .env.example sets (not the commented-out ones)."""
    return dict(line.split("=", 1) for line in ENV_EXAMPLE.splitlines()
                if line and not line.startswith("#"))


def gunicorn_settings(monkeypatch, tmp_path) -> dict:
    """What gunicorn.conf.py sets, read as gunicorn reads it (it sets the metrics folder)."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_compose_has_the_production_shape():
    assert {"caddy", "auth", "worker", "migrate", "postgres", "redis", "mailpit",
            "site"} == set(SERVICES)


@pytest.mark.parametrize("service", ["auth", "worker", "migrate"])
def test_every_auth_variable_is_a_real_setting(service):
    environment = SERVICES[service]["environment"]
    unknown = {name for name in environment
               if name.startswith(PREFIX) and name not in KNOWN}
    assert not unknown, f"{service}: settings the service would ignore: {unknown}"
    assert environment["AUTH_ENV"] == "production"
    assert environment["AUTH_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert environment["AUTH_REDIS_URL"].startswith("redis://")
    assert SERVICES[service]["env_file"] == ".env"


@pytest.mark.parametrize("service", ["auth", "worker", "migrate", "site"])
def test_commands_exist(runner, service):
    command = SERVICES[service]["command"]
    if command[0] == "gunicorn":  # the demo site: its factory must build the app
        module, _, call = command[-1].partition(":")
        factory = __import__(module, fromlist=["app"])
        assert call.endswith("()") and getattr(factory, call[:-2])().name
        return
    assert command[0] == "auth-service"
    result = runner.invoke([*command[1:], "--help"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("service", sorted(set(SERVICES) - ONE_SHOT))
def test_every_service_has_a_health_check_and_comes_back(service):
    assert SERVICES[service]["restart"] == "unless-stopped"
    check = SERVICES[service]["healthcheck"]["test"]
    assert check[0] == "CMD" and len(check) > 1


def test_the_health_checks_ask_the_right_question():
    checks = {name: " ".join(service["healthcheck"]["test"])
              for name, service in SERVICES.items() if "healthcheck" in service}
    assert "/readyz" in checks["auth"]
    assert "redis-cli ping" in checks["redis"]
    assert "/mailpit readyz" in checks["mailpit"]
    assert "pg_isready" in checks["postgres"]
    heartbeat = SERVICES["worker"]["command"][-1]
    assert SERVICES["worker"]["command"][-2] == "--heartbeat" and heartbeat in checks["worker"]
    assert SERVICES["migrate"]["restart"] == "no"


def test_everything_waits_for_what_it_needs_to_be_healthy():
    def waits(service: str) -> dict[str, str]:
        return {name: rule["condition"] for name, rule in SERVICES[service]["depends_on"].items()}

    assert waits("site") == {"auth": "service_healthy"}
    assert waits("auth")["migrate"] == "service_completed_successfully"
    assert waits("auth")["redis"] == "service_healthy"
    assert waits("migrate") == {"postgres": "service_healthy"}
    assert waits("caddy") == {"auth": "service_healthy", "site": "service_healthy"}


def test_the_demo_site_is_served_by_gunicorn_and_links_to_the_public_url():
    site = SERVICES["site"]
    assert site["command"][0] == "gunicorn"
    assert site["environment"]["AUTH_SERVICE_URL"] == "http://auth:8000"
    assert site["environment"]["AUTH_SERVICE_PUBLIC_URL"].startswith("${AUTH_BASE_URL")
    assert env_example()["SITE_URL"] in env_example()["AUTH_TRUSTED_ORIGINS"].split(",")


def test_images_are_pinned():
    images = [service["image"] for service in SERVICES.values() if "image" in service]
    images += re.findall(r"^FROM (\S+)", DOCKERFILE, re.M)
    assert len(images) >= 5
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and re.fullmatch(r"v?\d+\.\d+(\.\d+)?(-[\w.-]+)?", tag), image


def test_no_password_or_secret_is_written_in_the_compose_file():
    for line in COMPOSE_TEXT.splitlines():
        if re.search(r"PASSWORD|SECRET|_AUTH\b", line) and ":" in line and not line.lstrip(
                ).startswith("#"):
            value = line.split(":", 1)[1]
            assert "${" in value or "$$" in value or not value.strip(), line
    assert not re.search(r"://[^/\s:]+:(?!\$\{)[^@\s]+@", COMPOSE_TEXT), "a password in a URL"
    used = set(INTERPOLATION.findall(COMPOSE_TEXT))
    assert used <= set(env_example()), f"not in .env.example: {used - set(env_example())}"


def test_env_example_documents_every_production_setting():
    for setting in SETTINGS:
        name = PREFIX + setting.name
        assert re.search(rf"^(# )?{name}=|\({name} is set by docker-compose\.yml\)",
                         ENV_EXAMPLE, re.M), name
    named = set(re.findall(r"\bAUTH_[A-Z0-9_]+(?==)", ENV_EXAMPLE))
    unknown = {n for n in named - KNOWN if not PROVIDER_VARIABLE.fullmatch(n)}
    assert not unknown, unknown
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_caddy_terminates_tls_with_the_tested_forward_auth_recipe():
    caddy = SERVICES["caddy"]
    assert "443:443" in caddy["ports"]
    mounted = {volume.split(":")[0]: volume.split(":")[1] for volume in caddy["volumes"]}
    assert mounted["./examples/compose/Caddyfile"] == "/etc/caddy/Caddyfile"
    for service in ("auth", "site"):  # only through Caddy
        assert "ports" not in SERVICES[service], service

    def forward_auth(text: str, service: str) -> str:
        block = re.search(r"forward_auth \S+ \{.*?\n\t\t\}\n", text, re.S).group(0)
        return block.replace(service, "SERVICE")

    example = (ROOT / "examples" / "proxies" / "Caddyfile").read_text()
    compose = (ROOT / "examples" / "compose" / "Caddyfile").read_text()
    assert forward_auth(compose, "auth:8000") == forward_auth(example, "127.0.0.1:5000")
    for spelling in ("-X-Auth-*", "-X_Auth_*", "-X-Auth_*", "-X_Auth-*"):
        assert compose.count(f"request_header {spelling}") == 1, spelling


def test_the_image_holds_what_the_app_needs():
    copied = [name for line in re.findall(r"^COPY (.+) \S+$", DOCKERFILE, re.M)
              for name in line.split()]
    for needed in ("auth_service", "templates", "migrations", "pyproject.toml",
                   "gunicorn.conf.py", "examples"):
        assert needed in copied, needed
        assert (ROOT / needed).exists(), needed
    assert '"auth-service", "serve"' in DOCKERFILE
    assert cli.name == "auth-service"
    # The metrics volume is a tmpfs owned by the image's user.
    uid = re.search(r"useradd .*--uid (\d+)", DOCKERFILE).group(1)
    assert f"uid={uid}" in COMPOSE["volumes"]["metrics"]["driver_opts"]["o"]
    for service in ("auth", "worker"):
        assert "metrics:/run/auth-metrics" in SERVICES[service]["volumes"]
        assert SERVICES[service]["environment"]["PROMETHEUS_MULTIPROC_DIR"] == "/run/auth-metrics"


def compose_environment(service: str, database_url: str) -> dict[str, str]:
    """The AUTH_* variables the service's container gets: .env (from .env.example, every
    CHANGE filled in as an operator would), then the file's own, interpolated."""
    env = {key: (secrets.token_hex(32) if value.startswith("CHANGE") else value)
           for key, value in env_example().items()}
    env.update({key: INTERPOLATION.sub(lambda m: env[m.group(1)], str(value))
                for key, value in SERVICES[service]["environment"].items()})
    # Here the database is the test's: compose's host name "postgres" is not reachable.
    env["AUTH_DATABASE_URL"] = database_url
    return {key: value for key, value in env.items() if key.startswith(PREFIX)}


def test_doctor_passes_on_the_compose_settings(database_url, tmp_path, monkeypatch):
    for key in [key for key in os.environ if key.startswith(PREFIX)]:
        monkeypatch.delenv(key)
    for key, value in compose_environment("auth", database_url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AUTH_INSTANCE_PATH", str(tmp_path))
    result = CliRunner().invoke(cli, ["doctor", "--offline"])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert "OK   secure cookies" in result.output


@pytest.mark.parametrize(("provider_timeout", "at_least"), [("10", 40), ("20", 80), ("x", 40)])
def test_a_sync_worker_outlives_the_slowest_sign_in(monkeypatch, tmp_path, provider_timeout,
                                                    at_least):
    # A sync worker serving a social sign-in is silent until its provider calls end
    # (up to four, each AUTH_PROVIDER_TIMEOUT): gunicorn must not kill it first.
    monkeypatch.setenv("AUTH_PROVIDER_TIMEOUT", provider_timeout)
    settings = gunicorn_settings(monkeypatch, tmp_path)
    assert settings["worker_class"] == "sync"
    assert settings["timeout"] > at_least
