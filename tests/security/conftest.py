"""The real OpenID provider (oidc-provider-mock) as "Travel ID" for every app in these tests."""

from __future__ import annotations

import pytest

from tests.social_support import OIDCProvider, serve, start_oidc_provider


@pytest.fixture(scope="package")
def provider():
    with serve(start_oidc_provider()) as base:
        yield OIDCProvider(base)


@pytest.fixture
def settings(settings, provider):  # overrides tests/conftest.py's: add the provider
    return {"OIDC_MOCK_DISCOVERY_URL": provider.discovery, "OIDC_MOCK_CLIENT_ID": "auth-service",
            "OIDC_MOCK_CLIENT_SECRET": "s3cret", "OIDC_MOCK_LABEL": "Travel ID", **settings}
