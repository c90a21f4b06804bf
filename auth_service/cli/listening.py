"""Listening: the socket ``run`` and ``serve`` open, and what this host's processes listen on.

:func:`bind` opens the port before anything claims to be serving, so a port in
use is one clear line. The rest, read from Linux's /proc, is for ``doctor``:
behind a proxy (AUTH_TRUSTED_PROXIES), the service should be reachable only from
that proxy. A process listening on a public address, or on every interface of a
host that has one, can be reached around it. Nothing there changes anything; on
a system without /proc (or processes of another user) it finds nothing and says so.
"""

from __future__ import annotations

import errno
import ipaddress
import itertools
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import click

PROC = Path("/proc")
LISTEN = "0A"
MARKERS = (b"auth_service", b"auth-service")


@dataclass(frozen=True)
class Listener:
    address: str
    port: int
    pid: int

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def _decode(hex_address: str) -> tuple[str, int]:
    """/proc/net/tcp's ``0100007F:1F90`` → ("127.0.0.1", 8080); tcp6's 32-digit form too."""
    address, port = hex_address.split(":")
    raw = bytes.fromhex(address)
    # The kernel writes each 32-bit word in host (little-endian) order.
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words)), int(port, 16)


def _listening_inodes() -> dict[int, tuple[str, int]]:
    found: dict[int, tuple[str, int]] = {}
    for table in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == LISTEN:
                found[int(fields[9])] = _decode(fields[1])
    return found


def service_listeners() -> list[Listener]:
    """The listening sockets held by processes whose command line names auth_service."""
    inodes = _listening_inodes()
    found: list[Listener] = []
    for entry in PROC.iterdir() if inodes and PROC.is_dir() else ():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if not any(marker in (entry / "cmdline").read_bytes() for marker in MARKERS):
                continue
            links = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:  # gone, or another user's
            continue
        for link in links:
            if link.startswith("socket:[") and int(link[8:-1]) in inodes:
                address, port = inodes[int(link[8:-1])]
                found.append(Listener(address, port, int(entry.name)))
    return sorted(set(found), key=lambda item: (item.port, item.address))


def host_addresses() -> list[str]:
    """This host's own interface addresses (IPv4 from fib_trie, IPv6 from if_inet6)."""
    found: set[str] = set()
    try:
        lines = (PROC / "net" / "fib_trie").read_text().splitlines()
    except OSError:
        lines = []
    for previous, line in itertools.pairwise(lines):
        if "/32 host LOCAL" in line:
            found.add(previous.strip().split()[-1])
    try:
        for line in (PROC / "net" / "if_inet6").read_text().splitlines():
            found.add(str(ipaddress.ip_address(bytes.fromhex(line.split()[0]))))
    except (OSError, ValueError, IndexError):
        pass
    return sorted(found)


def exposed(listener: Listener, addresses: list[str]) -> bool:
    """Whether ``listener`` can be reached from the internet: a public address of its own,
    or a wildcard on a host that has a public address."""
    address = ipaddress.ip_address(listener.address)
    if address.is_unspecified:
        return any(ipaddress.ip_address(a).is_global for a in addresses)
    return address.is_global


def bind(host: str, port: int) -> socket.socket:
    """A socket listening on ``host``:``port``, for the server to take over (never a race).

    Raises click.ClickException with one line when the port is taken or the
    address is not this host's, before anything says it is serving.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise click.ClickException(f"cannot listen on {host}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(socket.SOMAXCONN)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"port {port} on {host} is already in use (another auth-service?): stop "
                f"it, or choose another port with --port") from None
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock
