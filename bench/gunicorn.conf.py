"""Gunicorn settings for production, and the ones ``make bench`` measures.

    gunicorn -c bench/gunicorn.conf.py --bind 127.0.0.1:8000 'auth_service.wsgi:app'

Options on the command line win over this file (``--bind``, ``--workers``,
``--access-logfile -``); ``WEB_CONCURRENCY`` sets the number of workers. Why
each value, measured on 2 cores with bench/run.py (docs/benchmarks.md):

- One process per CPU, each with a few threads. ``GET /api/session``, called on
  every page view, is a few hundred microseconds of Python and one indexed
  read: more processes than cores only take turns on the CPUs, and each switch
  costs the next one its caches (3 or 5 workers on 2 cores spent 20-40 % more
  CPU per check than 2). Threads cover the waits instead: a PostgreSQL round
  trip, a provider's token endpoint during a social sign-in (up to
  AUTH_PROVIDER_TIMEOUT, 10 s), an argon2 hash (which releases the GIL).
- Not ``sync``, although it has the tighter tail at saturation (a p99 of 19 ms
  against 37 ms for ``gthread`` in docs/benchmarks.md): sign-ins call the
  providers over the internet, which gunicorn's design notes say ``sync``
  workers must not do; with one request per process, two sign-ins waiting on a
  slow provider would hold up every page view of the content site. And
  ``gthread`` keeps connections alive, which the proxy examples (nginx
  ``keepalive``) and ``SessionClient`` rely on; ``sync`` closes every one.
"""

from __future__ import annotations

import gc
import os

# Only a local reverse proxy (TLS, buffering) should talk to gunicorn directly.
bind = "127.0.0.1:8000"

# CPUs this process may run on: a cpuset is honoured, a CFS quota is not, so in
# a container limited by --cpus set WEB_CONCURRENCY to match the quota.
_cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", _cpus))
threads = 4
# Longer than the idle timeout of the proxy's kept-alive upstream connections
# (nginx: 60 s, as do most load balancers), so it is always the proxy that
# closes one and never reuses a connection gunicorn is closing.
keepalive = 75

# Import the app once in the master: a configuration error stops gunicorn with
# its one line instead of a loop of workers that die at boot, and the workers
# share the imported code. Safe because create_app opens no database connection.
preload_app = True


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

# Seconds a worker may stay silent before it is replaced, and the grace on restart.
timeout = 30
graceful_timeout = 30
# The heartbeat file lives in memory, not on a disk that may stall (e.g. Docker's overlay).
_shm = "/dev/shm"  # noqa: S108 - gunicorn makes its own private file in it
worker_tmp_dir = _shm if os.path.isdir(_shm) else None
