"""Gunicorn settings for production: what ``auth-service serve`` runs, and ``make bench`` measures.

    auth-service serve --port 8000
    # which is
    gunicorn -c gunicorn.conf.py --bind 127.0.0.1:8000 'auth_service.wsgi:app'

The Docker image, docker-compose.yml and the benchmark run this file. Options on
the command line win over it (``--bind``, ``--workers``, ``--access-logfile -``);
``WEB_CONCURRENCY`` sets the number of workers. Why each value, measured on 2
cores with bench/run.py (docs/benchmarks.md):

- ``sync`` workers, one more than the CPUs. ``GET /api/session``, called on
  every page view, is some 150 µs of Python and one indexed read, so what
  decides its latency under load is how fairly the server queues requests. A
  ``sync`` worker takes the next connection from the kernel's queue, first come
  first served, when it is free: at 32 connections on 2 cores its p99 was
  17 ms, against 24-50 ms for ``gthread``, whose kept-alive connections stay
  with the worker that accepted them (rarely an even split: 9 and 23 in one
  run) and go through its poller thread before and after every request. More
  workers than CPUs + 1 only take turns on the CPUs (5 on 2 cores: p99 22 ms).
- The price of ``sync``: a worker serves one request at a time, and no
  connection is kept alive (the proxies open one per check, on the loopback or
  a LAN: well under a millisecond). The one request that waits on the internet
  is a social sign-in's call to its provider (up to AUTH_PROVIDER_TIMEOUT
  each); post_fork below caps those at one less than the workers
  (AUTH_PROVIDER_CONCURRENCY, auth_service/providers/slots.py), so a provider
  that hangs can never take the last worker from the page views. argon2 at
  sign-in is CPU work that would take a CPU under any worker class.
- Slow clients: a ``sync`` worker must sit behind a buffering reverse proxy
  (every example in examples/proxies does), which sends it whole requests.
- ``/metrics`` adds up every worker's counts: PROMETHEUS_MULTIPROC_DIR (below)
  is where each process writes its own. Give ``auth-service worker`` the same
  folder and the mail it sends is counted there too.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile

# Only a local reverse proxy (TLS, buffering) should talk to gunicorn directly.
bind = "127.0.0.1:8000"

# CPUs this process may run on: a cpuset is honoured, a CFS quota is not, so in
# a container limited by --cpus set WEB_CONCURRENCY to match the quota.
_cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", _cpus + 1))

# Import the app once in the master: a configuration error stops gunicorn with
# its one line instead of a loop of workers that die at boot, and the workers
# share the imported code. Safe because create_app opens no database connection.
preload_app = True


# Set before the app is imported (preload_app: right after this file), so every
# process counts into files there. Unset, a folder of this server's own, removed
# when it stops (on_exit).
_own_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _own_metrics_dir = tempfile.mkdtemp(prefix="auth-service-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _own_metrics_dir
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


def on_exit(server: object) -> None:
    """The server stops: a metrics folder it made for itself goes with it."""
    if _own_metrics_dir:
        shutil.rmtree(_own_metrics_dir, ignore_errors=True)

# A worker that ends leaves its files: what it counted stays in the sum (the
# service keeps counters and histograms only, no per-process gauges to clear).


def pre_fork(server: object, worker: object) -> None:
    """Move everything the master loaded out of the garbage collector's sight.

    Workers then neither scan those objects in each full collection (some 115,000
    of them: a pause of about 70 ms on the benchmark machine, enough to show in
    the p99) nor copy the memory pages holding them by updating their GC fields.
    """
    gc.freeze()


# /api/session is called once per page view of the content site, and the proxy
# in front logs every request already; turn this on with --access-logfile -.
accesslog = None
errorlog = "-"
loglevel = "info"
# Access lines, when on, without link tokens, OAuth codes, cookies or Authorization.
logger_class = "auth_service.security.redact.RedactingGunicornLogger"

# No runtime control socket (gunicorn >= 25): nothing to manage the server
# through but signals, and two instances on one host do not fight over its path.
control_socket_disable = True

# Seconds a request may take before its worker is replaced (a sync worker is silent
# while it serves one), and the grace on restart. The longest honest request is a
# social sign-in's callback: up to four calls to the provider (token, keys,
# userinfo, GitHub's email list), each allowed AUTH_PROVIDER_TIMEOUT; it must end
# on the service's own "couldn't reach" page, not in a killed worker.
try:
    _provider_timeout = int(os.environ.get("AUTH_PROVIDER_TIMEOUT", "10"))
except ValueError:  # the app refuses it at start-up with a clear line
    _provider_timeout = 10
timeout = max(30, 4 * _provider_timeout + 10)
graceful_timeout = 30
# The heartbeat file lives in memory, not on a disk that may stall (e.g. Docker's overlay).
_shm = "/dev/shm"  # noqa: S108 - gunicorn makes its own private file in it
worker_tmp_dir = _shm if os.path.isdir(_shm) else None


def post_fork(server: object, worker: object) -> None:
    """Leave one worker to the page views whatever the providers do (module docstring).

    Unless AUTH_PROVIDER_CONCURRENCY is set, at most ``workers - 1`` (at least 1) sign-ins may
    wait on a provider at once; the workers count is the final one, command line
    included, which is why this is not read from the environment at import.
    """
    if "AUTH_PROVIDER_CONCURRENCY" in os.environ:
        return
    app = worker.app.wsgi()  # type: ignore[attr-defined]  # preloaded: the app itself
    config = getattr(app, "config", {})
    if "PROVIDER_CONCURRENCY" in config:  # not the bare app of bench/bare_app.py
        config["PROVIDER_CONCURRENCY"] = max(1, server.cfg.workers - 1)  # type: ignore[attr-defined]
