"""examples/proxies/nginx.conf does what it says, in a real nginx in front of real processes.

nginx runs as a subprocess (``-g 'daemon off;'``) from the example config with only
its addresses and file paths changed; the tests are tests/e2e/proxies.py's contract.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.proxies import (
    EXAMPLES,
    Ports,
    RecipeContract,
    Stack,
    call,
    proxy_stack,
    render,
    required_program,
    run_checked,
)

NGINX = Path("/usr/sbin/nginx")


def start_nginx(ports: Ports, folder: Path) -> tuple[subprocess.Popen, Path]:
    binary = required_program(NGINX, "nginx-light")
    prefix = folder / "nginx"
    prefix.mkdir()
    temp_paths = "".join(f"\n    {kind}_temp_path {prefix / kind};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    config = prefix / "nginx.conf"
    config.write_text(render((EXAMPLES / "nginx.conf").read_text(), "nginx.conf", [
        ("worker_processes auto;", "worker_processes 1;"),
        ("pid /run/nginx.pid;", f"pid {prefix / 'nginx.pid'};"),
        ("error_log /var/log/nginx/error.log;", f"error_log {prefix / 'error.log'};"),
        ("access_log /var/log/nginx/access.log;", f"access_log {prefix / 'access.log'};"),
        ("http {", "http {" + temp_paths),
        ("server 127.0.0.1:5000;", f"server 127.0.0.1:{ports.service};"),
        ("server 127.0.0.1:8080;", f"server 127.0.0.1:{ports.site};"),
        ("listen 80;", f"listen 127.0.0.1:{ports.listen};"),
    ]))
    error_log = prefix / "error.log"
    command = [str(binary), "-p", str(prefix), "-e", str(error_log), "-c", str(config)]
    run_checked([*command, "-t"])
    return subprocess.Popen([*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL), error_log


@pytest.fixture(scope="module")
def stack(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    required_program(NGINX, "nginx-light")
    with proxy_stack(tmp_path_factory.mktemp("nginx"), module_database_url, start_nginx) as running:
        yield running


class TestNginx(RecipeContract):
    def test_the_check_location_is_not_reachable_from_outside(self, stack):
        assert call(stack.port, "/_auth_service_check").status != 200
