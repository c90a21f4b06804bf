"""What the browser tests (tests/e2e/browser/) need from the machine: Chromium and axe-core.

They drive Debian's Chromium (/usr/bin/chromium) with Playwright (PyPI, in the
dev extra), never a browser Playwright downloads itself. Without Chromium the
whole package skips with one line, and fails under CI (``CI`` set), where .ci/run
installs it. The accessibility checks run axe-core (npm), installed on first use
into .cache/axe with ``npm install --prefix``, outside git.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
AXE_PREFIX = ROOT / ".cache" / "axe"
AXE_SCRIPT = AXE_PREFIX / "node_modules" / "axe-core" / "axe.min.js"
AXE_PACKAGE = "axe-core@4"


@functools.cache
def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"Chromium is not installed ({CHROMIUM})"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (`make install` installs the dev extra)"
    return None


def require_browser() -> None:
    """Skip (locally) or fail (under CI) when Chromium is missing: one line for the package."""
    reason = missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} under CI: .ci/run should have installed chromium", pytrace=False)
    pytest.skip(f"{reason}: `apt-get install chromium` runs the browser tests",
                allow_module_level=True)


def axe_script() -> Path:
    """axe.min.js, installed from the npm registry into .cache/axe the first time."""
    if not AXE_SCRIPT.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install axe-core for the accessibility checks "
                        "(`apt-get install npm`)", pytrace=False)
        done = subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund",
                               "--prefix", str(AXE_PREFIX), AXE_PACKAGE],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 and AXE_SCRIPT.exists(), (
            f"npm install {AXE_PACKAGE} failed:\n{done.stderr}")
    return AXE_SCRIPT


if __name__ == "__main__":
    # `make test` says in one line whether the browser tests run on this machine.
    reason = missing()
    if reason is None:
        print(f"Browser tests: in Chromium ({CHROMIUM}), with axe-core for accessibility")
    else:
        print(f"Browser tests: skipped, {reason}"
              + (" (under CI they fail instead)" if os.environ.get("CI") else
                 " (`apt-get install chromium` runs them)"))
