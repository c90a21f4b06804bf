"""The layers import only downward (docs/architecture.md): read from the code, not trusted.

Each module's imports are parsed (ast), mapped to the layer they belong to, and
checked against the arrows the architecture allows. A flow that reaches for
``flask.request`` or a view, or a model that imports a flow, fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "auth_service"

# The oidc package is a slice of its own: its stores sit beside flows, its pages beside views.
OIDC_VIEWS = {"authorize", "endpoints", "logout", "session_token", "sites", "server", "provider"}


def layer(module: str) -> str:
    """``auth_service.flows.login`` → "flows"; ``auth_service.oidc.keys`` → "oidc-store"."""
    parts = module.split(".")
    if len(parts) < 2:
        return "app"
    top = parts[1]
    if top == "oidc":
        return "oidc-view" if len(parts) > 2 and parts[2] in OIDC_VIEWS else "oidc-store"
    if top in {"client", "client_session", "client_tokens", "client_web"}:
        return "client"
    if top in {"errors", "clock", "resources", "config", "links", "settings_doc", "i18n",
               "branding", "metrics"}:
        return "base"
    if top in {"create_app", "__init__"}:
        return "app"
    return top


# What each layer may import from the package (besides itself).
ALLOWED: dict[str, set[str]] = {
    "base": {"base", "providers"},  # config reads the provider variables
    "models": {"base"},
    "extensions": {"models"},
    "security": {"base"},
    "mail": {"base", "models", "extensions"},
    "providers": {"base", "models", "extensions"},
    "flows": {"base", "models", "extensions", "security", "mail", "providers", "oidc-store"},
    "oidc-store": {"base", "models", "extensions", "security", "mail", "flows"},
    "views": {"base", "models", "extensions", "security", "mail", "providers", "flows",
              "oidc-store", "migrate"},
    "oidc-view": {"base", "models", "extensions", "security", "mail", "providers", "flows",
                  "oidc-store", "views"},
    "migrate": {"base", "extensions"},
    "cli": {"base", "models", "extensions", "security", "mail", "providers", "flows",
            "oidc-store", "migrate", "app"},
    "client": set(),  # what content sites import: nothing of the service but the client
    "app": {"base", "extensions", "security", "providers", "views", "oidc-view", "oidc-store",
            "cli"},
    "wsgi": {"app", "base"},
}
# Flask's request-bound objects belong to views: flows are called by the CLI too.
REQUEST_BOUND = {"request", "session", "flash", "render_template", "g", "redirect", "url_for"}


def modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts)


def name_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, set[str]]]:
    """(module imported, names taken from it) for every import in ``path``."""
    found: list[tuple[str, set[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = {alias.name for alias in node.names}
            folder = PACKAGE.parent.joinpath(*node.module.split("."))
            submodules = {n for n in names
                          if (folder / f"{n}.py").exists() or (folder / n).is_dir()}
            found += [(f"{node.module}.{name}", set()) for name in submodules]
            if names - submodules:
                found.append((node.module, names - submodules))
        elif isinstance(node, ast.Import):
            found += [(alias.name, set()) for alias in node.names]
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: name_of(p))
def test_every_module_imports_only_downward(path):
    own = layer(name_of(path))
    for module, names in imports(path):
        if module.startswith("auth_service"):
            target = layer(module)
            assert target == own or target in ALLOWED[own], (
                f"{name_of(path)} ({own}) imports {module} ({target})")
        if own in {"flows", "oidc-store", "models", "mail", "providers"} and module == "flask":
            # Mail renders its own templates: emails, not pages.
            allowed = {"render_template"} if own == "mail" else set()
            assert not names & (REQUEST_BOUND - allowed), (
                f"{name_of(path)} uses {names & REQUEST_BOUND}: that is a view's business")


def test_modules_stay_small():
    long = {name_of(p): n for p in modules()
            if (n := len(p.read_text().splitlines())) > 450}
    assert long == {}, f"split these: {long}"
