"""`auth-service run` and `serve`: the port, the links in emails, the settings file they share."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from auth_service import resources
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def taken_port():
    """A port something else already listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


@pytest.mark.parametrize("command", ["run", "serve"])
def test_a_port_in_use_is_one_line_before_anything_claims_to_serve(runner, taken_port, command):
    result = runner.invoke([command, "--port", str(taken_port)])
    assert result.exit_code == 1
    assert result.output == (f"Error: port {taken_port} on 127.0.0.1 is already in use "
                             "(another auth-service?): stop it, or choose another port with "
                             "--port\n")


@pytest.mark.parametrize("command", ["run", "serve"])
def test_both_refuse_an_unmigrated_database_first(runner, command):
    runner.invoke(["db", "downgrade", "base"])
    result = runner.invoke([command, "--port", str(free_port())])
    assert result.exit_code == 1
    assert "the database is not migrated: run `auth-service db upgrade`" in result.output
    assert "Serving" not in result.output


def test_serve_uses_the_settings_file_at_the_top_of_the_repository(runner):
    assert resources.file("gunicorn.conf.py") == ROOT / "gunicorn.conf.py"
    help_text = runner.invoke(["serve", "--help"]).output
    assert "gunicorn.conf.py" in help_text and "Example: auth-service serve" in help_text


def test_make_run_takes_the_port():
    planned = subprocess.run(["make", "-n", "run", "PORT=5050"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    assert "auth-service run --host 127.0.0.1 --port 5050" in planned


def test_make_bench_without_wrk_says_what_it_needs_and_installs_nothing(tmp_path):
    # A PATH with make's tools but no wrk, no sudo and no apt-get.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "test", "touch", "echo"):
        found = subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True,
                               text=True).stdout.strip()
        if found.startswith("/"):
            (bin_dir / tool).symlink_to(found)
    planned = subprocess.run(["make", "-n", "bench"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    assert "sudo" not in planned and "apt-get install -y" not in planned
    make = shutil.which("make")
    result = subprocess.run([make, "--no-print-directory", "bench", "-o", "install"], cwd=ROOT,
                            capture_output=True, text=True,
                            env={"PATH": str(bin_dir), "HOME": str(tmp_path)})
    assert result.returncode != 0
    assert "bench: needs wrk" in result.stdout + result.stderr
    assert "bench/run.py" not in result.stdout
