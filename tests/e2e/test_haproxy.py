"""examples/proxies/haproxy.cfg and auth-service.lua do what they say, in a real HAProxy.

HAProxy runs in the foreground (``-db``) from the example config with only its
addresses and paths changed (and logs to stderr, not syslog; as the test's own
user, not ``haproxy``), loading the example Lua file as it is. The tests are
tests/e2e/proxies.py's contract.
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

HAPROXY = Path("/usr/sbin/haproxy")


def start_haproxy(ports: Ports, folder: Path) -> tuple[subprocess.Popen, Path]:
    binary = required_program(HAPROXY, "haproxy")
    config = folder / "haproxy.cfg"
    config.write_text(render((EXAMPLES / "haproxy.cfg").read_text(), "haproxy.cfg", [
        ("    log /dev/log local0\n", "    log stderr format raw local0\n"),
        ("    user haproxy\n    group haproxy\n    daemon\n", ""),
        ("lua-load /etc/haproxy/auth-service.lua", f"lua-load {EXAMPLES / 'auth-service.lua'}"),
        ("    bind :80\n", f"    bind 127.0.0.1:{ports.listen}\n"),
        ("http://127.0.0.1:5000/api/session", f"http://127.0.0.1:{ports.service}/api/session"),
        ("server site 127.0.0.1:8080", f"server site 127.0.0.1:{ports.site}"),
    ]))
    run_checked([str(binary), "-c", "-f", str(config)])
    log = folder / "haproxy.log"
    with log.open("w") as output:
        return subprocess.Popen([str(binary), "-db", "-f", str(config)], stdout=output,
                                stderr=subprocess.STDOUT), log


@pytest.fixture(scope="module")
def stack(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    required_program(HAPROXY, "haproxy")
    with proxy_stack(tmp_path_factory.mktemp("haproxy"), module_database_url,
                     start_haproxy) as running:
        yield running


class TestHAProxy(RecipeContract):
    def test_paths_a_site_could_read_as_protected_are_refused(self, stack):
        for path in ("/public/../members/story", "/public/%2E%2E/members/story",
                     "//members/story", "/./members/story"):
            assert call(stack.port, path).status == 400, path
        # Elsewhere such paths are the site's business (a share link holding a URL).
        for path in ("/share/https://example.com/a", "/docs/../about"):
            answer = call(stack.port, path)
            assert answer.status == 200, path
            assert answer.json()["path"] == path
