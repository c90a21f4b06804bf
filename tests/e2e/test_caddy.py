"""examples/proxies/Caddyfile does what it says, in a real Caddy in front of real processes.

Caddy (``caddy run``) serves the example with only its addresses changed and a
global options block added: no admin endpoint (its default port is shared by
everything on this machine) and plain http on 127.0.0.1, so no certificate is
asked for. Its state goes to the test's folder, not the home directory. The
tests are tests/e2e/proxies.py's contract.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.proxies import (
    EXAMPLES,
    Ports,
    RecipeContract,
    Stack,
    proxy_stack,
    render,
    required_program,
    run_checked,
)

CADDY = Path("/usr/bin/caddy")
GLOBAL_OPTIONS = "{\n\tadmin off\n}\n\n"


def start_caddy(ports: Ports, folder: Path) -> tuple[subprocess.Popen, Path]:
    binary = required_program(CADDY, "caddy")
    home = folder / "caddy"
    home.mkdir()
    config = home / "Caddyfile"
    config.write_text(GLOBAL_OPTIONS + render((EXAMPLES / "Caddyfile").read_text(), "Caddyfile", [
        ("www.example.com {", f"http://127.0.0.1:{ports.listen} {{"),
        ("forward_auth 127.0.0.1:5000 {", f"forward_auth 127.0.0.1:{ports.service} {{"),
        ("reverse_proxy 127.0.0.1:8080", f"reverse_proxy 127.0.0.1:{ports.site}"),
    ]))
    environ = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
               "XDG_DATA_HOME": str(home / "data")}
    command = ["--config", str(config), "--adapter", "caddyfile"]
    run_checked([str(binary), "validate", *command], env=environ)
    log = home / "caddy.log"
    with log.open("w") as output:
        return subprocess.Popen([str(binary), "run", *command], env=environ, stdout=output,
                                stderr=subprocess.STDOUT), log


@pytest.fixture(scope="module")
def stack(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    required_program(CADDY, "caddy")
    with proxy_stack(tmp_path_factory.mktemp("caddy"), module_database_url, start_caddy) as running:
        yield running


class TestCaddy(RecipeContract):
    pass


def test_the_compose_caddyfile_is_valid(tmp_path):
    # docker-compose.yml's Caddy: the same forward_auth (tests/test_deployment.py), with TLS.
    binary = required_program(CADDY, "caddy")
    environ = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
               "XDG_DATA_HOME": str(tmp_path / "data"),
               "SERVICE_ADDRESS": "https://login.localhost", "SITE_ADDRESS": "https://www.localhost"}
    run_checked([str(binary), "validate", "--config",
                 str(EXAMPLES.parent / "compose" / "Caddyfile"), "--adapter", "caddyfile"],
                env=environ)
