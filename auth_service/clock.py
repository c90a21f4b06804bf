"""The one place that says what time it is, so tests can freeze and move it."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """Current time, timezone-aware UTC. Tests replace this function to travel in time."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime read back from SQLite as UTC, which is how it was written."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
