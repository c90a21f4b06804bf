"""A cap on provider round trips waiting on the internet at once, on this host.

A sign-in with a social provider waits on that provider's servers (up to
AUTH_PROVIDER_TIMEOUT per call); nothing else the service does waits on the
internet. Under gunicorn's ``sync`` workers (gunicorn.conf.py) a worker
waiting on a provider serves nobody else, so a provider that hangs could take
every worker, and every page view's ``GET /api/session`` with them. With
AUTH_PROVIDER_CONCURRENCY = N, at most N such waits run at once on the host
(gunicorn.conf.py sets it to one less than its workers): the next sign-in is
told at once to try again, and page views always find a worker.

The slots are ``flock`` locks on N files in the instance folder, so they are
shared by every process and thread of the host (an open file each) and freed
by the kernel if a worker dies holding one.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


@contextmanager
def slot(folder: str | os.PathLike[str], limit: int) -> Iterator[bool]:
    """Hold one of ``limit`` slots for the block: yields True, or False when all are taken.

    ``limit`` 0 means no cap (always True, no file touched). A folder that cannot
    hold the lock files (read-only, full) lifts the cap too, with a warning: a
    misconfigured instance folder must not stop every social sign-in.
    """
    if limit <= 0:
        yield True
        return
    try:
        descriptor = _take(Path(folder), limit)
    except OSError as exc:
        log.warning("provider slots unavailable in %s (%s): sign-ins are not capped",
                    folder, exc.strerror or type(exc).__name__)
        yield True
        return
    if descriptor is None:
        yield False
        return
    try:
        yield True
    finally:
        os.close(descriptor)  # and with it the lock


def _take(folder: Path, limit: int) -> int | None:
    """The open, locked file of a free slot, or None when every slot is held."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for index in range(limit):
        descriptor = os.open(folder / f"{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue
        return descriptor
    return None
