"""Fixtures shared by the end-to-end tests: a database for a whole module, one real
WordPress for the whole run."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.conftest import TEST_DATABASE_URL, _reset_shared_database
from tests.wordpress import WordPress, wordpress_site


@pytest.fixture(scope="module")
def module_database_url(_template_db: str,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``database_url`` for a whole module: starting a service per test costs seconds each."""
    folder = tmp_path_factory.mktemp("module-db")
    if TEST_DATABASE_URL:
        yield _template_db
        _reset_shared_database(_template_db, folder / "reset-instance")
        return
    copy = folder / "auth.db"
    shutil.copyfile(_template_db, copy)
    yield f"sqlite:///{copy}"


@pytest.fixture(scope="session")
def wordpress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WordPress]:
    """WordPress installed once per run (a second or two); each test sets what it needs.

    The modules that use it call ``require_wordpress()`` first (skip here, fail under CI).
    """
    with wordpress_site(tmp_path_factory.mktemp("wordpress")) as site:
        yield site


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """One headless Chromium for the whole run (Debian's, never a downloaded one), shared by
    every browser test: Playwright's sync API allows one running instance per process."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()
