"""``make bench-token``: a site's cost of knowing its reader, per page view, in its own process.

Three ways the Python client answers "who is this?", each measured in one thread
for a few seconds against a throw-away production instance served by gunicorn
with gunicorn.conf.py on a free 127.0.0.1 port:

* ``TokenVerifier.verify`` of a signed session token (keys cached): no network at all;
* ``SessionClient.check`` without its cache: one ``GET /api/session`` per page view;
* ``SessionClient.check`` with its default 5 s cache (a dictionary look-up, mostly).

It writes the numbers into docs/benchmarks.md between two markers (the rest of
the page is bench/run.py's and is left alone), or prints them with ``--print``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from auth_service import clock, create_app, migrate
from auth_service.client import SessionClient, TokenVerifier
from auth_service.extensions import db
from auth_service.flows import sessions
from auth_service.models import User
from auth_service.security.passwords import hash_password

BENCH = Path(__file__).resolve().parent
REPORT = BENCH.parent / "docs" / "benchmarks.md"
START = "<!-- bench/verify.py: token verification, start -->"
END = "<!-- bench/verify.py: token verification, end -->"
SECRET = "bench-verify-" + "x" * 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(folder: Path, base: str) -> str:
    """Migrate a SQLite database, create one account with a live session; its cookie token."""
    app = create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": f"sqlite:///{folder}/a.db",
                      "SECRET_KEY": SECRET, "BASE_URL": base, "ARGON2_TIME_COST": 1,
                      "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1})
    with app.app_context():
        migrate.upgrade()
        user = User(email="bench@example.com", password_hash=hash_password("x" * 20),
                    display_name="Bench", email_confirmed_at=clock.now())
        db.session.add(user)
        db.session.commit()
        token = sessions.start(user, method="password").token
        db.session.remove()
        db.engine.dispose()
    return token


def rate(check: Callable[[], object], seconds: float) -> tuple[float, float]:
    """(calls per second, microseconds per call) of ``check`` in this thread."""
    for _ in range(50):
        check()
    calls, started = 0, time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for _ in range(20):
            check()
        calls += 20
    elapsed = time.perf_counter() - started
    return calls / elapsed, elapsed / calls * 1e6


def measure(seconds: float) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory(prefix="auth-bench-verify-") as tmp:
        folder = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        cookie = prepare(folder, base)
        environ = {key: value for key, value in os.environ.items()
                   if not key.startswith("AUTH_")}
        environ.update(AUTH_ENV="production", AUTH_SECRET_KEY=SECRET, AUTH_BASE_URL=base,
                       AUTH_DATABASE_URL=f"sqlite:///{folder}/a.db", AUTH_INSTANCE_PATH=tmp,
                       AUTH_MAIL_BACKEND="smtp")
        server = subprocess.Popen(  # noqa: S603 (our own interpreter and config)
            [sys.executable, "-m", "gunicorn", "--config", str(BENCH / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}", "auth_service.wsgi:app"],
            env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(base)
            ask = urllib.request.Request(f"{base}/api/session/token",  # noqa: S310
                                         headers={"Cookie": f"auth_session={cookie}"})
            with urllib.request.urlopen(ask, timeout=5) as answer:  # noqa: S310
                token = json.loads(answer.read())["token"]
            verifier = TokenVerifier(base)
            uncached = SessionClient(base, cache_ttl=0)
            cached = SessionClient(base)
            assert verifier.verify(token)["sid"]
            assert uncached.check(cookie) is not None
            return {
                "TokenVerifier.verify (signed session token, keys cached)":
                    rate(lambda: verifier.verify(token), seconds),
                "SessionClient.check, no cache (GET /api/session each time)":
                    rate(lambda: uncached.check(cookie), seconds),
                "SessionClient.check, 5 s cache (default)":
                    rate(lambda: cached.check(cookie), seconds),
            }
        finally:
            server.terminate()
            server.wait(timeout=10)


def _wait(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).close()  # noqa: S310
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the service did not start")


def render(results: dict[str, tuple[float, float]], seconds: float) -> str:
    rows = "\n".join(f"| {name} | {per_second:,.0f} | {micros:,.1f} |"
                     for name, (per_second, micros) in results.items())
    return f"""{START}
## Token verification in the site's process

`bench/verify.py` (`make bench-token`): how many times per second one thread of a
Python content site can learn who its reader is, each way the client offers,
{seconds:g} s each, against the service under the production gunicorn settings on
127.0.0.1 ({platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs).
The signed session token is verified with no network call at all; the uncached
check is one HTTP round trip to `/api/session` per page view.

| check | per second | µs per check |
|---|---:|---:|
{rows}
{END}"""


def write(section: str) -> None:
    text = REPORT.read_text()
    if START in text and END in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: section, text,
                      flags=re.DOTALL)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    REPORT.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--print", action="store_true", help="print instead of writing the report")
    args = parser.parse_args()
    section = render(measure(args.seconds), args.seconds)
    if args.print:
        print(section)
    else:
        write(section)
        print(section)


if __name__ == "__main__":
    main()
