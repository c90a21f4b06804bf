"""Red Africa Travel: a demo content site that trusts the sign-in service's session.

It holds no accounts and no passwords. On every request ``AuthSession`` forwards
the reader's ``auth_session`` cookie to the service's ``/api/session`` and puts
the answer in ``g.reader``; "Sign in" and "Sign out" are links to the service,
which sends the reader back to the page they were on.

Run it with ``make demo`` (service on :5000, this site on :5001), or on its own:
``python examples/content_site/app.py --port 5001``. Settings come from the
environment: AUTH_SERVICE_URL (default http://127.0.0.1:5000),
AUTH_SERVICE_CACHE_TTL, AUTH_SERVICE_TIMEOUT, AUTH_SERVICE_COOKIE.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, abort, g, render_template, request
from werkzeug.wrappers import Response

from auth_service.client import AuthSession, Reader, reader_required

HERE = Path(__file__).resolve().parent
ENVIRONMENT_KEYS = ("AUTH_SERVICE_URL", "AUTH_SERVICE_PUBLIC_URL", "AUTH_SERVICE_CACHE_TTL",
                    "AUTH_SERVICE_TIMEOUT", "AUTH_SERVICE_COOKIE")
SITE_NAME = "Red Africa Travel"


@dataclass(frozen=True)
class Article:
    """A story of the magazine: paragraphs, and captions of photos we don't ship."""

    slug: str
    title: str
    blocks: tuple[tuple[str, str], ...]  # ("p" | "caption", text)

    @property
    def teaser(self) -> str:
        return next(text for kind, text in self.blocks if kind == "p")


@cache
def articles() -> dict[str, Article]:
    """The articles in ``articles/``: first line the title, blank lines between blocks.

    A block whose lines start with "> " is a photo caption.
    """
    found: dict[str, Article] = {}
    for path in sorted((HERE / "articles").glob("*.txt")):
        title, _, body = path.read_text(encoding="utf-8").partition("\n")
        blocks = []
        for block in body.strip().split("\n\n"):
            lines = block.strip().splitlines()
            if all(line.startswith("> ") for line in lines):
                blocks.append(("caption", " ".join(line[2:] for line in lines)))
            else:
                blocks.append(("p", " ".join(lines)))
        found[path.stem] = Article(slug=path.stem, title=title.strip(), blocks=tuple(blocks))
    return found


def avatar_hue(reader: Reader) -> int:
    """A stable colour (HSL hue) per reader for the generated initial-letter avatar."""
    return int(hashlib.sha256(reader.id.encode()).hexdigest()[:4], 16) % 360


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The demo site: defaults, then AUTH_SERVICE_* from the environment, then ``config``."""
    app = Flask(__name__, root_path=str(HERE))
    app.config.update(AUTH_SERVICE_URL="http://127.0.0.1:5000")
    app.config.update({key: os.environ[key] for key in ENVIRONMENT_KEYS if os.environ.get(key)})
    app.config.update(config or {})
    AuthSession(app)

    @app.context_processor
    def site() -> dict[str, Any]:
        service = AuthSession.client().base_url
        here = {"return_to": request.url}
        return {
            "site_name": SITE_NAME,
            "avatar_hue": avatar_hue,
            "register_url": f"{service}/register?{urlencode(here)}",
            "forgot_url": f"{service}/password/forgot",
            "account_url": f"{service}/account",
        }

    @app.after_request
    def private(response: Response) -> Response:
        # Every page shows who is signed in: no shared cache may serve one reader's page to another.
        response.headers["Cache-Control"] = "private, no-store"
        response.vary.add("Cookie")
        return response

    @app.get("/")
    def home() -> str:
        return render_template("home.html", articles=list(articles().values()))

    @app.get("/articles/<slug>")
    def article(slug: str) -> str:
        found = articles().get(slug)
        if found is None:
            abort(404)
        return render_template("article.html", article=found)

    @app.get("/members")
    @reader_required
    def members() -> str:
        return render_template("members.html", reader=g.reader)

    return app


def main() -> None:
    """``python examples/content_site/app.py [--host H] [--port P]``: Flask's development server."""
    parser = argparse.ArgumentParser(description=f"{SITE_NAME}, the demo content site.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    options = parser.parse_args()
    app = create_app()
    print(f"{SITE_NAME} on http://{options.host}:{options.port}/, "
          f"signing in through {app.config['AUTH_SERVICE_URL']} (Ctrl+C to stop)", flush=True)
    app.run(host=options.host, port=options.port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
