"""Fixtures shared by the end-to-end tests: one real WordPress for the whole run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.wordpress import WordPress, wordpress_site


@pytest.fixture(scope="session")
def wordpress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WordPress]:
    """WordPress installed once per run (a second or two); each test sets what it needs.

    The modules that use it call ``require_wordpress()`` first (skip here, fail under CI).
    """
    with wordpress_site(tmp_path_factory.mktemp("wordpress")) as site:
        yield site
