"""``make bench``: how fast ``GET /api/session`` answers, next to a bare Flask endpoint.

Builds a throw-away production instance (migrated SQLite, one confirmed account
with a live session), serves it and bench/bare_app.py with the same gunicorn
settings (gunicorn.conf.py) on free 127.0.0.1 ports, and runs ``wrk``
against each in turn: a warm-up, then several timed rounds. It checks that every
/api/session request answered 200, prints the medians and writes
docs/benchmarks.md (bench/report.py). Everything it starts stops when it ends,
however it ends.

The bare endpoint is the yardstick: gunicorn plus Flask alone on this machine,
so ``service / bare`` means much the same on a laptop and on a server.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import report
import wrk
from wrk import BenchError, Round, Summary

from auth_service import clock, create_app, migrate
from auth_service.extensions import db
from auth_service.flows import sessions
from auth_service.flows.audit import Client
from auth_service.models import User
from auth_service.security.passwords import hash_password

BENCH = Path(__file__).resolve().parent
REPORT = BENCH.parent / "docs" / "benchmarks.md"

COOKIE = "auth_session"
EMAIL = "bench@example.com"
NAME = "Zoë Bench"  # not ASCII, so X-Auth-Name takes its percent-encoding path


# --- servers -------------------------------------------------------------------------


def listening_socket() -> socket.socket:
    """A socket bound to a free 127.0.0.1 port, to hand to gunicorn as ``fd://``.

    Binding it here, rather than picking a port for gunicorn to bind later, leaves
    no moment in which another program could take the port and answer in its place.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def port_of(sock: socket.socket) -> int:
    return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, get SIGTERM when the benchmark's process dies.

    So a benchmark killed with SIGKILL still leaves no gunicorn behind.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def serve(name: str, app: str, sock: socket.socket, env: Mapping[str, str], workdir: Path,
          extra: Sequence[str] = ()) -> Iterator[None]:
    """Run gunicorn with gunicorn.conf.py on ``sock`` until the block ends."""
    log_path = workdir / f"{name}.log"
    fd = sock.fileno()
    command = [sys.executable, "-m", "gunicorn", "--config", str(report.GUNICORN_CONF),
               "--bind", f"fd://{fd}", *extra, app]
    with open(log_path, "w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=workdir, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, pass_fds=(fd,),
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        try:
            _wait_until_serving(process, log_path)
            yield
        finally:
            _stop(process)


def _wait_until_serving(process: subprocess.Popen[bytes], log: Path,
                        timeout: float = 30.0) -> None:
    """Return once a worker has booted; raises BenchError if gunicorn exits or hangs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with {process.returncode}:\n{_tail(log)}")
        if "Booting worker" in log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise BenchError(f"gunicorn did not start within {timeout:.0f} s:\n{_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- the instance ----------------------------------------------------------------------


def instance_environment(workdir: Path, port: int) -> dict[str, str]:
    """The AUTH_* variables of a production instance in ``workdir``, other variables kept."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTH_")}
    env.update({
        "AUTH_ENV": "production",
        "AUTH_SECRET_KEY": secrets.token_hex(32),
        "AUTH_BASE_URL": f"http://127.0.0.1:{port}",
        # No AUTH_DATABASE_URL: the embedded default, a SQLite file in the instance folder.
        "AUTH_INSTANCE_PATH": str(workdir / "instance"),
        # Nothing is sent: SMTP just satisfies production's refusal of console mail.
        "AUTH_MAIL_BACKEND": "smtp",
    })
    return env


def prepare_instance(env: Mapping[str, str]) -> str:
    """Migrate the database, add a confirmed account and sign it in; returns the session token."""
    # create_app reads the AUTH_* environment, the same one gunicorn will get.
    os.environ.update(env)
    app = create_app()
    with app.app_context():
        migrate.upgrade()
        user = User(email=EMAIL, display_name=NAME, email_confirmed_at=clock.now(),
                    password_hash=hash_password(secrets.token_urlsafe(16)))
        db.session.add(user)
        db.session.commit()
        started = sessions.start(user, method="password",
                                 client=Client(ip="127.0.0.1", user_agent="bench/run.py"))
        db.session.remove()
        db.engine.dispose()
    return started.token


def _get(url: str, headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - 127.0.0.1
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def check_answers(service: str, bare: str, token: str) -> None:
    """200 with the account for the cookie, 401 without one, ``ok`` from the bare app."""
    status, headers, body = _get(service, {"Cookie": f"{COOKIE}={token}"})
    if status != 200:
        raise BenchError(f"/api/session answered {status} with the session cookie: {body[:200]!r}")
    if json.loads(body)["user"]["email"] != EMAIL or headers.get("X-Auth-Email") != EMAIL:
        raise BenchError(f"/api/session answered for someone else: {body[:200]!r}")
    status, _, _ = _get(service)
    if status != 401:
        raise BenchError(f"/api/session answered {status} without a cookie, not 401")
    status, _, body = _get(bare)
    if (status, body) != (200, b"ok"):
        raise BenchError(f"the bare app answered {status} {body[:50]!r}")


# --- the run -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark: 0 if it ran and the service answered correctly, 1 otherwise.

    With ``--strict``, a missed target is a failure too (for CI on known hardware).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per server")
    parser.add_argument("--duration", type=int, default=10, help="seconds per round")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per server")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--gunicorn-args", default="", type=shlex.split,
                        help="extra gunicorn options for both servers, e.g. '--workers 3'")
    parser.add_argument("--output", type=Path, default=REPORT, help="where to write the report")
    parser.add_argument("--no-report", action="store_true", help="print the numbers only")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 1
    # A plain `kill` still stops the servers and removes the temporary folder.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        service, bare = _measure(args)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    return _conclude(args, service, bare)


def _measure(args: argparse.Namespace) -> tuple[list[Round], list[Round]]:
    load = {"connections": args.connections, "threads": args.threads}
    extra = args.gunicorn_args
    with tempfile.TemporaryDirectory(prefix="auth-bench-") as tmp, \
            listening_socket() as service_sock, listening_socket() as bare_sock:
        workdir = Path(tmp)
        env = instance_environment(workdir, port_of(service_sock))
        _say(f"preparing a production instance in {workdir}")
        token = prepare_instance(env)
        service_url = f"http://127.0.0.1:{port_of(service_sock)}/api/session"
        bare_url = f"http://127.0.0.1:{port_of(bare_sock)}/"
        cookie = (f"Cookie: {COOKIE}={token}",)
        with serve("service", "auth_service.wsgi:app", service_sock, env, workdir, extra), \
                serve("bare", "bare_app:app", bare_sock, env, workdir,
                      [*extra, "--pythonpath", str(BENCH)]):
            check_answers(service_url, bare_url, token)
            _say(f"warm-up: {args.warmup} s each")
            wrk.run(service_url, seconds=args.warmup, headers=cookie, **load)
            wrk.run(bare_url, seconds=args.warmup, **load)
            service: list[Round] = []
            bare: list[Round] = []
            for number in range(1, args.rounds + 1):
                service.append(wrk.run(service_url, seconds=args.duration, headers=cookie,
                                       **load))
                _say(_line(f"round {number} /api/session", service[-1]))
                bare.append(wrk.run(bare_url, seconds=args.duration, **load))
                _say(_line(f"round {number} bare", bare[-1]))
            check_answers(service_url, bare_url, token)
    return service, bare


def _conclude(args: argparse.Namespace, service: list[Round], bare: list[Round]) -> int:
    s, b = Summary.of(service), Summary.of(bare)
    verdict = report.Verdict.of(s, b)
    _say(_line("median /api/session", s))
    _say(_line("median bare", b))
    _say(f"ratio {verdict.ratio:.2f} (target >= {report.TARGET_RATIO}), p99 {s.p99_ms:.1f} ms "
         f"(target < {report.TARGET_P99_MS:.0f} ms): {'met' if verdict.met else 'NOT MET'}")
    if not args.no_report:
        text = report.render(
            info=report.machine(), settings=report.gunicorn_settings(args.gunicorn_args),
            load=vars(args), overrides=args.gunicorn_args, service=service, bare=bare,
            notes=report.kept_notes(args.output))
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
        _say(f"wrote {args.output}")
    if s.non_2xx or s.socket_errors:
        _say(f"/api/session did not always answer 200: {s.non_2xx} non-2xx answers, "
             f"{s.socket_errors} socket errors")
        return 1
    return 1 if args.strict and not verdict.met else 0


def _line(label: str, r: Round | Summary) -> str:
    return (f"{label:<26} {r.rps:>9,.0f} req/s   p50 {r.p50_ms:6.2f} ms   "
            f"p99 {r.p99_ms:6.2f} ms   non-2xx {r.non_2xx}   errors {r.socket_errors}")


def _say(text: str) -> None:
    print(f"bench: {text}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
