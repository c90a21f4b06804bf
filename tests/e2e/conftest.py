"""Fixtures for end-to-end tests whose module shares one live service."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.conftest import TEST_DATABASE_URL, _reset_shared_database


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
