"""docs/benchmarks.md as bench/run.py writes it: how to run and read it, numbers, verdict."""

from __future__ import annotations

import contextlib
import os
import platform
import runpy
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import gunicorn
import wrk
from gunicorn.config import Config
from wrk import Round, Summary

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
# Text after this line in the report is written by hand; a new run keeps it.
KEEP_MARKER = "<!-- Written by hand below this line: bench/run.py keeps it. -->"

# The targets for /api/session, at 32 connections on 2 cores, on SQLite.
TARGET_RATIO = 0.6
TARGET_P99_MS = 20.0


@dataclass(frozen=True)
class Verdict:
    """The targets, checked against the medians."""

    ratio: float
    ratio_met: bool
    p99_met: bool

    @classmethod
    def of(cls, service: Summary, bare: Summary) -> Verdict:
        ratio = service.rps / bare.rps
        return cls(ratio=ratio, ratio_met=ratio >= TARGET_RATIO,
                   p99_met=service.p99_ms < TARGET_P99_MS)

    @property
    def met(self) -> bool:
        return self.ratio_met and self.p99_met


def machine() -> dict[str, str]:
    """What the numbers depend on: CPUs, Python, gunicorn, wrk, the commit measured."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=False)  # noqa: S607
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],  # noqa: S603, S607
                            capture_output=True, text=True, check=False)
    return {
        "CPUs (`nproc`)": nproc.stdout.strip() or str(os.cpu_count()),
        "CPU model": cpu,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "gunicorn": gunicorn.__version__,
        "wrk": wrk.version(),
        "commit": commit.stdout.strip() or "unknown",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def gunicorn_settings(overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The settings gunicorn runs with: gunicorn.conf.py, then command-line ``overrides``.

    Read through gunicorn's own Config, so the table shows what the servers used.
    """
    config = Config()
    # The file makes a metrics folder unless one is set: read it with a throwaway one.
    with tempfile.TemporaryDirectory() as metrics, mock.patch.dict(
            os.environ, {"PROMETHEUS_MULTIPROC_DIR": metrics}):
        values = runpy.run_path(str(GUNICORN_CONF))
    for name, value in values.items():
        if name in config.settings:
            config.set(name, value)
    parsed = config.parser().parse_args([*overrides, "app:app"])
    for name, value in vars(parsed).items():
        if value is not None and name in config.settings:
            config.set(name, value)
    worker_class = config.worker_class_str
    if worker_class == "sync" and config.threads > 1:
        worker_class = "gthread"  # what gunicorn does with threads and the sync worker
    settings: dict[str, Any] = {"worker_class": worker_class, "workers": config.workers}
    if worker_class == "gthread":  # the sync worker has one thread and closes every connection
        settings.update(threads=config.threads, keepalive=config.keepalive)
    return {
        **settings,
        "preload_app": config.preload_app,
        "accesslog": config.accesslog,
        "timeout": config.timeout,
    }


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def _rows(label: str, rounds: list[Round]) -> list[str]:
    rows = [f"| {label} | {number} | {r.rps:,.0f} | {_ms(r.p50_ms)} | {_ms(r.p99_ms)} | "
            f"{r.non_2xx} | {r.socket_errors} |" for number, r in enumerate(rounds, 1)]
    s = Summary.of(rounds)
    rows.append(f"| {label} | **median** | **{s.rps:,.0f}** | **{_ms(s.p50_ms)}** | "
                f"**{_ms(s.p99_ms)}** | {s.non_2xx} | {s.socket_errors} |")
    return rows


def render(*, info: Mapping[str, str], settings: Mapping[str, Any], load: Mapping[str, Any],
           overrides: Sequence[str], service: list[Round], bare: list[Round],
           notes: str) -> str:
    """The whole page; ``load`` holds the run's rounds, duration, warmup, connections, threads."""
    s, b = Summary.of(service), Summary.of(bare)
    verdict = Verdict.of(s, b)
    times, at_least = "\N{MULTIPLICATION SIGN}", "\N{GREATER-THAN OR EQUAL TO}"
    machine_rows = "\n".join(f"| {key} | {value} |" for key, value in info.items())
    setting_rows = "\n".join(f"| `{key}` | `{value!r}` |" for key, value in settings.items())
    command = f"wrk -t{load['threads']} -c{load['connections']} --latency"
    rounds = f"{load['rounds']} round{'s' if load['rounds'] != 1 else ''}"
    plan = f"a {load['warmup']} s warm-up, then {rounds} of {load['duration']} s"
    overridden = (f"\n\nThis run overrode the file with `{' '.join(overrides)}`; the table "
                  "shows what the servers ran with.") if overrides else ""
    return f"""# Benchmarks

`GET /api/session` is the service's hot path: the content site, or its proxy's
`auth_request` / ForwardAuth / `forward_auth`, calls it on every page view. This
page records how fast it answers on SQLite, next to a bare Flask endpoint served
the same way. `bench/run.py` wrote everything above the notes at the end.

## How to run it

```sh
make bench                      # installs wrk (Debian package) if it is missing
.venv/bin/python bench/run.py --rounds 9 --duration 20    # longer, steadier
.venv/bin/python bench/run.py --output /tmp/bench.md      # leave this page alone
.venv/bin/python bench/run.py --gunicorn-args="--worker-class gthread --threads 4" \\
    --output /tmp/gthread.md                               # try other server settings
```

It builds a throw-away production instance in a temporary folder
(`AUTH_ENV=production`, a migrated SQLite database, one confirmed account signed
in through `auth_service.flows.sessions.start`) and serves it and
`bench/bare_app.py` with the production settings of `gunicorn.conf.py`,
each on its own free `127.0.0.1` port. It checks that the service answers `200`
with the account for the session cookie and `401` without it, then runs
`{command}` against each server in turn:
{plan}, alternating between the two so that
whatever else the machine does falls on both. Every `/api/session` request
carries the cookie and must answer `200`:
the run fails if wrk counts a single non-2xx answer or socket error, and the
first check is made again at the end. Then both servers are stopped and the
folder is removed; if the run is killed, the servers get SIGTERM with it. It
exits 0 when the service answered correctly, whether or not the targets were
met (`--strict` fails on a missed target too).

## How to read it

- **requests/s**: throughput at {load["connections"]} connections, each sending its
  next request as soon as the answer arrives. The median of the rounds is the
  number that counts.
- **p50 / p99**: wrk's latency percentiles in each round; the median row holds
  the median of the rounds' percentiles. Under this closed loop the latency is
  mostly queueing: about {load["connections"]} ÷ requests/s on average.
- **ratio**: `/api/session` requests/s over the bare endpoint's. The bare
  endpoint is gunicorn and Flask doing nothing, so the ratio is the share of
  that floor the real check keeps. It moves much less between machines than the
  absolute numbers do.
- wrk runs on the same CPUs as the servers, and the machine may be shared, so
  rounds can differ by 20 % or more; compare runs made on the same machine, and
  trust more or longer rounds over a single one.

## Targets

On SQLite, at {load["connections"]} connections, on 2 cores:

| target | result | |
|---|---|---|
| `/api/session` {at_least} {TARGET_RATIO} {times} the bare endpoint's requests/s | \
{verdict.ratio:.2f} {times} | {_met(verdict.ratio_met)} |
| `/api/session` p99 < {TARGET_P99_MS:.0f} ms | {_ms(s.p99_ms)} | {_met(verdict.p99_met)} |

## Results

| endpoint | round | requests/s | p50 | p99 | non-2xx | socket errors |
|---|---|---:|---:|---:|---:|---:|
{chr(10).join(_rows("`GET /api/session`", service) + _rows("bare `GET /`", bare))}

## Machine

| | |
|---|---|
{machine_rows}

## Server settings

`gunicorn.conf.py` is the production configuration; its docstring and
comments say why each value.{overridden}

| setting | value |
|---|---|
{setting_rows}

{KEEP_MARKER}
{notes}"""


def kept_notes(path: Path) -> str:
    """The hand-written part of an existing report (after KEEP_MARKER), or nothing."""
    if not path.exists():
        return ""
    _, marker, after = path.read_text().partition(KEEP_MARKER)
    return after.lstrip("\n") if marker else ""
