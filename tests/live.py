"""A live `auth-service run` process on 127.0.0.1 and a urllib browser to use it over HTTP.

Shared by the tests that need a real server rather than Flask's test client:
the content-site client, the demo site journey, the CLI run as a subprocess,
the dev server as `make run` gives it, the proxies in front of the service.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from auth_service import clock, create_app, migrate
from auth_service.extensions import db
from auth_service.models import User
from auth_service.security.passwords import hash_password
from tests.conftest import FAST_ARGON2, PASSWORD, free_port

CLI = str(Path(sys.executable).with_name("auth-service"))
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
EMAIL = "ana@example.com"
NAME = "Ana Marić"  # not ASCII on purpose: X-Auth-Name and the JSON must both carry it
SECRET = "live-service-secret-" + "x" * 32


# --- a live service ----------------------------------------------------------------------


@dataclass
class LiveService:
    """A running `auth-service run` process and what the tests need to know about it."""

    base: str
    port: int
    log_path: Path
    users: dict[str, int] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text()

    def session_checks(self) -> int:
        """How many GET /api/session the server has answered (werkzeug logs each one)."""
        return self.log().count("GET /api/session HTTP/1.1")

    def printed_link(self, path: str, seen: int = 0) -> str:
        """The ``seen``-th link to ``path`` printed to the log by console mail (``print_mail``)."""
        pattern = re.compile(re.escape(self.base + path) + r"\S+")
        try:
            wait_until(lambda: len(pattern.findall(self.log())) > seen,
                       what=f"a {path} link printed")
        except AssertionError:
            raise AssertionError(f"no {path} link printed:\n{self.log()}") from None
        return pattern.findall(self.log())[seen]


def wait_until(condition: Callable[[], bool], seconds: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


def responds(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
    except OSError:
        return False
    return True


def stop(process: subprocess.Popen) -> None:
    """Terminate ``process`` and wait for it; kill it if it does not go within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _prepare_database(folder: Path, database_url: str) -> dict[str, int]:
    """Migrate the database and create a confirmed admin reader (unless it exists)."""
    app = create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": database_url,
                      "SECRET_KEY": SECRET, **FAST_ARGON2})
    with app.app_context():
        migrate.upgrade()
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        if user is None:
            user = User(email=EMAIL, password_hash=hash_password(PASSWORD), display_name=NAME,
                        email_confirmed_at=clock.now(), is_admin=True)
            db.session.add(user)
            db.session.commit()
        users = {EMAIL: user.id}
        db.session.remove()
        db.engine.dispose()
    return users


@contextmanager
def live_service(folder: Path, *, port: int | None = None,
                 trusted_origins: tuple[str, ...] = (), database_url: str | None = None,
                 rate_limits: bool = False, print_mail: bool = False,
                 fresh: bool = False, gunicorn_workers: int | None = None,
                 environment: Mapping[str, str] | None = None) -> Iterator[LiveService]:
    """Run `auth-service run` on 127.0.0.1 with its instance folder ``folder``.

    By default the database is SQLite in ``folder`` (or ``database_url``), prepared
    in-process first (migrated, one confirmed admin reader EMAIL with PASSWORD), which
    is faster than registering through the confirm email; the secret key is SECRET.
    Rate limits are off unless ``rate_limits``: the tests sign in more often than a
    person would. Mail stays in the outbox (no in-process worker) for a test to send
    with `auth-service worker`; with ``print_mail`` it is left at the development
    default instead: console mail sent from the server process, so the links are
    printed to the log (``LiveService.printed_link``).

    ``fresh`` starts it as `make run` does on a new checkout: no secret key (the
    development one is generated in ``folder``), the SQLite database in ``folder``
    migrated by `auth-service db upgrade`, no account yet.

    With ``gunicorn_workers``, the server is `auth-service serve`: gunicorn with the
    production settings (gunicorn.conf.py) and that many workers.
    ``environment`` adds AUTH_* variables (a provider, a timeout).
    """
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    environ = {key: value for key, value in os.environ.items() if not key.startswith("AUTH_")}
    environ.update({f"AUTH_{key}": str(value) for key, value in FAST_ARGON2.items()})
    environ.update(AUTH_INSTANCE_PATH=str(folder), AUTH_BASE_URL=base,
                   AUTH_TRUSTED_ORIGINS=",".join(trusted_origins))
    if not rate_limits:
        environ.update(AUTH_RATELIMIT_ENABLED="false")
    if not print_mail:
        environ.update(AUTH_MAIL_WORKER_INLINE="false")
    environ.update(environment or {})
    if fresh:
        assert database_url is None, "a fresh install has its database in the instance folder"
        subprocess.run([CLI, "db", "upgrade"], env=environ, check=True, timeout=60,
                       capture_output=True)
        users: dict[str, int] = {}
    else:
        database_url = database_url or f"sqlite:///{folder / 'auth.db'}"
        users = _prepare_database(folder, database_url)
        environ.update(AUTH_DATABASE_URL=database_url, AUTH_SECRET_KEY=SECRET)
    log_path = folder / f"server-{port}.log"
    with log_path.open("a") as log:
        command = [CLI, "run", "--port", str(port)]
        if gunicorn_workers:
            command = [CLI, "serve", "--port", str(port), "--workers", str(gunicorn_workers)]
        process = subprocess.Popen(command, env=environ, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: process.poll() is not None or responds(base + "/healthz"),
                   what="the service to start")
        assert process.poll() is None, f"the service exited:\n{log_path.read_text()}"
        yield LiveService(base=base, port=port, log_path=log_path, users=users)
    finally:
        stop(process)


# --- a browser ----------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Page:
    status: int
    text: str
    headers: dict[str, str]

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class Browser:
    """One browser: a cookie jar shared by every origin it visits, redirects not followed.

    Like a real browser, its cookies for 127.0.0.1 go to every port of 127.0.0.1,
    which is how the demo content site receives the service's session cookie.
    """

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def open(self, url: str, data: dict | None = None) -> Page:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(url, data=body, timeout=10) as response:
                return Page(response.status, response.read().decode(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Page(error.code, error.read().decode(), dict(error.headers))

    def submit(self, url: str, data: dict, *, form_url: str | None = None) -> Page:
        """GET the form page for its CSRF token, then POST ``data`` to ``url``."""
        page = self.open(form_url or url)
        token = CSRF.search(page.text)
        assert token, f"no CSRF token on {form_url or url} ({page.status})"
        return self.open(url, {"csrf_token": token.group(1), **data})

    def sign_in(self, service: LiveService, email: str = EMAIL, password: str = PASSWORD,
                return_to: str = "") -> Page:
        url = service.base + "/login" + (f"?{urllib.parse.urlencode({'return_to': return_to})}"
                                         if return_to else "")
        page = self.submit(service.base + "/login",
                           {"email": email, "password": password, "return_to": return_to},
                           form_url=url)
        assert page.status == 303, f"sign-in failed ({page.status}): {page.text[:500]}"
        return page

    def cookie(self, name: str = "auth_session") -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)


def api_session(service: LiveService, token: str) -> tuple[int, dict]:
    """What the service itself says about a token right now (no cache in between)."""
    request = urllib.request.Request(service.base + "/api/session",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
