"""examples/proxies/traefik.yml, checked against Traefik's documented configuration.

Traefik has no Debian package, so unlike the nginx, Caddy and HAProxy recipes
(tests/e2e/) this one is not run. Instead every field it uses must be one that
Traefik documents, with the documented type: a misspelt field would quietly not
do what the recipe says (``authRequestHeader`` instead of ``authRequestHeaders``
would forward every header the reader sent), and nothing here would notice.
Then the recipe must say what the other recipes do: only the cookie to the
check, the service's X-Auth-* to the site, every client spelling of them
stripped on every router, and a refusal that sends the browser to sign in,
coming back to the same page.

The fields are those of Traefik v3's routing reference (doc.traefik.io,
"Routing configuration": HTTP routers, services, and the forwardAuth, errors
and headers middlewares); each also exists in v2.11, unless marked.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "proxies"
RECIPE = yaml.safe_load((EXAMPLES / "traefik.yml").read_text())

# Documented fields and their types: `list` is a list of strings, `dict` a free
# map; a nested dict is an object with its own fields, and [that] a list of them.
SERVER = {"url": str, "weight": int}
ROUTER = {"rule": str, "entryPoints": list, "middlewares": list, "service": str,
          "priority": int, "ruleSyntax": str,  # ruleSyntax: v3 only
          "tls": {"certResolver": str, "options": str, "domains": list}}
SERVICE = {"loadBalancer": {"servers": [SERVER], "sticky": dict, "healthCheck": dict,
                            "passHostHeader": bool, "responseForwarding": dict,
                            "serversTransport": str}}
MIDDLEWARES = {
    "forwardAuth": {
        "address": str, "trustForwardHeader": bool, "authResponseHeaders": list,
        "authResponseHeadersRegex": str, "authRequestHeaders": list,
        # v3 only:
        "addAuthCookiesToResponse": list, "forwardBody": bool, "maxBodySize": int,
        "headerField": str, "preserveLocationHeader": bool,
        "tls": {"ca": str, "cert": str, "key": str, "insecureSkipVerify": bool},
    },
    "errors": {"status": list, "service": str, "query": str},
    "headers": {"customRequestHeaders": dict, "customResponseHeaders": dict},
}


def documented(value: object, schema: dict, where: str) -> list[str]:
    """What in ``value`` is not a documented field of ``schema`` with its type."""
    if not isinstance(value, dict):
        return [f"{where}: an object is expected, not {value!r}"]
    problems = []
    for name, item in value.items():
        kind = schema.get(name)
        if kind is None:
            problems.append(f"{where}.{name}: not a documented field")
        elif isinstance(kind, dict):
            problems += documented(item, kind, f"{where}.{name}")
        elif isinstance(kind, list):
            if not isinstance(item, list):
                problems.append(f"{where}.{name}: a list expected, not {item!r}")
                continue
            for index, entry in enumerate(item):
                problems += documented(entry, kind[0], f"{where}.{name}[{index}]")
        elif (kind is int and isinstance(item, bool)) or not isinstance(item, kind):
            problems.append(f"{where}.{name}: {kind.__name__} expected, not {item!r}")
        elif kind is list and not all(isinstance(entry, str) for entry in item):
            problems.append(f"{where}.{name}: a list of strings expected, not {item!r}")
    return problems


def test_every_field_is_a_documented_one_with_its_type():
    assert set(RECIPE) == {"http"}
    http = RECIPE["http"]
    assert set(http) <= {"routers", "middlewares", "services"}
    problems = []
    for name, router in http["routers"].items():
        problems += documented(router, ROUTER, f"routers.{name}")
    for name, service in http["services"].items():
        problems += documented(service, SERVICE, f"services.{name}")
    for name, middleware in http["middlewares"].items():
        kinds = set(middleware) & set(MIDDLEWARES)
        if len(middleware) != 1 or len(kinds) != 1:
            problems.append(f"middlewares.{name}: one of {sorted(MIDDLEWARES)} expected, "
                            f"not {sorted(middleware)}")
            continue
        kind = kinds.pop()
        problems += documented(middleware[kind], MIDDLEWARES[kind], f"middlewares.{name}.{kind}")
    assert not problems, "\n".join(problems)


def test_routers_name_only_what_is_defined():
    http = RECIPE["http"]
    for name, router in http["routers"].items():
        assert router["service"] in http["services"], name
        for middleware in router.get("middlewares", []):
            assert middleware in http["middlewares"], (name, middleware)
    assert http["middlewares"]["signin-required"]["errors"]["service"] in http["services"]


def test_the_check_forwards_only_the_cookie_and_copies_the_services_headers():
    check = RECIPE["http"]["middlewares"]["auth-service"]["forwardAuth"]
    assert check["address"].endswith("/api/session")
    assert check["authRequestHeaders"] == ["Cookie"]  # never Authorization
    assert check["authResponseHeaders"] == ["X-Auth-User-Id", "X-Auth-Email", "X-Auth-Name"]
    assert check.get("trustForwardHeader", False) is False  # a client's X-Forwarded-* lie


def test_the_protected_router_strips_then_catches_a_refusal_then_checks():
    routers = RECIPE["http"]["routers"]
    members = routers["members"]
    assert "PathPrefix(`/members/`)" in members["rule"]
    assert members["middlewares"] == ["strip-auth-headers", "signin-required", "auth-service"]
    # Every other router strips a client's X-Auth-* too, first.
    for name, router in routers.items():
        assert router.get("middlewares", [None])[0] == "strip-auth-headers", name
        host = re.search(r"Host\(`([^`]+)`\)", router["rule"])
        assert host and host.group(1) == "www.example.com", name


@pytest.mark.parametrize("name", ["X-Auth-User-Id", "X-Auth-Email", "X-Auth-Name"])
def test_every_spelling_of_the_headers_is_removed(name):
    removed = RECIPE["http"]["middlewares"]["strip-auth-headers"]["headers"][
        "customRequestHeaders"]
    parts = name.split("-")
    # WSGI, CGI and PHP read "_" like "-": every mix of the two must go.
    for separators in itertools.product("-_", repeat=len(parts) - 1):
        spelling = parts[0] + "".join(s + p for s, p in zip(separators, parts[1:], strict=True))
        assert removed.get(spelling) == "", spelling  # an empty value removes the header


def test_a_refusal_shows_a_public_page_that_sends_the_browser_to_sign_in():
    errors = RECIPE["http"]["middlewares"]["signin-required"]["errors"]
    assert errors["status"] == ["401"]
    page = errors["query"]
    assert page == "/signin-required.html"
    assert not page.startswith("/members/")  # else the page itself would need a session
    html = (EXAMPLES / "signin-required.html").read_text()
    # The page is shown at the address the reader asked for: that address, encoded
    # whole (encodeURIComponent keeps no "&", "+" or "%" raw), is the return_to.
    assert 'encodeURIComponent(window.location.href)' in html
    assert re.search(r'"https://login\.example\.com/login\?return_to=" \+\s*'
                     r'encodeURIComponent\(window\.location\.href\)', html)
