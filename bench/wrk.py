"""Running ``wrk`` and reading its numbers, for bench/run.py."""

from __future__ import annotations

import re
import statistics
import subprocess
from dataclasses import dataclass


class BenchError(Exception):
    """The benchmark could not run or the service answered wrongly; ``str()`` says why."""


@dataclass(frozen=True)
class Round:
    """What one wrk run reported."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int  # wrk's "Non-2xx or 3xx responses": statuses of 400 and above
    socket_errors: int


@dataclass(frozen=True)
class Summary:
    """A target's rounds in one line: medians, and every failure added up."""

    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    @classmethod
    def of(cls, rounds: list[Round]) -> Summary:
        return cls(
            rps=statistics.median(r.rps for r in rounds),
            p50_ms=statistics.median(r.p50_ms for r in rounds),
            p99_ms=statistics.median(r.p99_ms for r in rounds),
            non_2xx=sum(r.non_2xx for r in rounds),
            socket_errors=sum(r.socket_errors for r in rounds),
        )


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if match is None:
        raise BenchError(f"unexpected duration in wrk's output: {value!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse(output: str) -> Round:
    """The numbers of one ``wrk --latency`` run; raises BenchError if it is not wrk's output."""
    total = re.search(r"^\s*(\d+) requests in (\S+?),", output, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if not (total and rps and p50 and p99):
        raise BenchError(f"could not read wrk's output:\n{output}")
    # Both lines are printed only when there is something to count.
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return Round(
        requests=int(total.group(1)),
        seconds=_ms(total.group(2)) / 1000,
        rps=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def run(url: str, *, seconds: int, connections: int, threads: int,
        headers: tuple[str, ...] = ()) -> Round:
    """One ``wrk --latency`` run against ``url``; raises BenchError if wrk fails or hangs."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
               "--timeout", "5s"]
    for header in headers:
        command += ["-H", header]
    command.append(url)
    try:
        done = subprocess.run(command, capture_output=True, text=True,  # noqa: S603
                              timeout=seconds + 30, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish: {' '.join(command)}") from None
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse(done.stdout)


def version() -> str:
    """``wrk --version``'s number, or "unknown"."""
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True,  # noqa: S607
                          check=False)
    match = re.search(r"wrk (\S+)", done.stdout + done.stderr)
    return match.group(1) if match else "unknown"
