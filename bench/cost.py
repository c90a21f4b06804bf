"""``make bench-cost``: the CPU one ``GET /api/session`` check costs, now and at another commit.

wrk's numbers (bench/run.py) move with whatever else the machine does; the CPU
time a process spends on one request moves much less. This calls the WSGI app
of a production instance (migrated SQLite, one signed-in account) in a loop on
one thread and reads ``time.process_time()``: the CPU of that process alone.
It does so for this working tree and for ``--against`` (a commit, checked out in
a temporary git worktree), alternating rounds between the two so that both see
the same machine, and prints the median microseconds per check of each.

It is how a change to the hot path shows it is no slower: run it against the
commit before the change. Nothing is written; the worktree is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GIT = shutil.which("git") or "git"

# Run in a child process with the tree under test first on sys.path. It uses only
# names every version of the service has had: create_app, migrate.upgrade, User,
# db and flows.sessions.start.
CHILD = r"""
import io, json, os, secrets, sys, tempfile, time
from werkzeug.test import EnvironBuilder

workdir = tempfile.mkdtemp(prefix="auth-cost-")
os.environ.update({
    "AUTH_ENV": "production", "AUTH_SECRET_KEY": secrets.token_hex(32),
    "AUTH_BASE_URL": "https://auth.example", "AUTH_INSTANCE_PATH": workdir,
    "AUTH_MAIL_BACKEND": "smtp",
})
from auth_service import clock, create_app, migrate
from auth_service.extensions import db
from auth_service.flows import sessions
from auth_service.models import User

app = create_app()
with app.app_context():
    migrate.upgrade()
    user = User(email="reader@example.com", display_name="Reader",
                email_confirmed_at=clock.now())
    db.session.add(user)
    db.session.commit()
    token = sessions.start(user, method="password").token
    db.session.remove()
name = app.config["SESSION_COOKIE"]
environ = EnvironBuilder(path="/api/session", base_url="https://auth.example",
                         headers={"Cookie": f"{name}={token}"}).get_environ()

statuses = []
def start_response(status, headers, exc_info=None):
    statuses.append(status)

def once():
    env = dict(environ)
    env["wsgi.input"] = io.BytesIO()
    body = app(env, start_response)
    for _ in body:
        pass
    if hasattr(body, "close"):
        body.close()

for _ in range(WARMUP):
    once()
if statuses[-1] != "200 OK":
    raise SystemExit(f"the check answered {statuses[-1]}, not 200")
results = []
for _ in range(ROUNDS):
    began = time.process_time()
    for _ in range(REQUESTS):
        once()
    results.append((time.process_time() - began) / REQUESTS * 1e6)
print(json.dumps(results))
"""


def measure(tree: Path, requests: int, rounds: int) -> list[float]:
    """Microseconds of CPU per check, one number per round, for the service in ``tree``."""
    code = (CHILD.replace("WARMUP", str(max(200, requests // 5)))
            .replace("ROUNDS", str(rounds)).replace("REQUESTS", str(requests)))
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTH_")}
    env["PYTHONPATH"] = str(tree)
    done = subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, text=True,  # noqa: S603
                          capture_output=True, timeout=600, check=False)
    if done.returncode != 0:
        raise SystemExit(f"cost: the run in {tree} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", required=True, help="the commit to compare with")
    parser.add_argument("--requests", type=int, default=3000, help="checks per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per turn")
    parser.add_argument("--turns", type=int, default=5, help="alternations between the two")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="auth-cost-tree-") as scratch:
        other = Path(scratch) / "tree"
        subprocess.run([GIT, "-C", str(ROOT), "worktree", "add", "--detach",  # noqa: S603
                        str(other), args.against], check=True, capture_output=True)
        try:
            now: list[float] = []
            then: list[float] = []
            for turn in range(args.turns):
                now += measure(ROOT, args.requests, args.rounds)
                then += measure(other, args.requests, args.rounds)
                print(f"cost: turn {turn + 1}: now {statistics.median(now):7.1f} µs, "
                      f"{args.against} {statistics.median(then):7.1f} µs", flush=True)
        finally:
            subprocess.run([GIT, "-C", str(ROOT), "worktree", "remove", "--force",  # noqa: S603
                            str(other)], check=False, capture_output=True)
    ratio = statistics.median(now) / statistics.median(then)
    print(f"cost: median CPU per GET /api/session: now {statistics.median(now):.1f} µs, "
          f"{args.against} {statistics.median(then):.1f} µs (now / then = {ratio:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
