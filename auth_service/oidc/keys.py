"""The provider's signing keys: kept in the database, published at /oauth/jwks, rotated by the CLI.

The newest key that is not retired signs everything (ID tokens, session tokens,
logout tokens). ``auth-service keys rotate`` retires it and adds a new one; a
retired key stays in the JWKS until every token it signed has expired (the
longest lifetime of those tokens plus a minute of clock leeway), so a site
verifying offline never sees a valid token whose key has disappeared.

The first key (RS256) is made on first use, so a new installation needs no step.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import delete, select

from auth_service import clock
from auth_service.errors import FlowError
from auth_service.extensions import db
from auth_service.models import SigningKey

ALGORITHMS = ("RS256", "ES256")
DEFAULT_ALGORITHM = "RS256"
# A logout token is meant to be used at once; the receiver accepts it this long.
LOGOUT_TOKEN_TTL = 120
CLOCK_LEEWAY = timedelta(seconds=60)

Key = RSAKey | ECKey


def generate(alg: str = DEFAULT_ALGORITHM) -> SigningKey:
    """A new signing key row (added to the session, not committed).

    Raises FlowError ``keys.unknown_algorithm`` for anything but RS256 or ES256.
    """
    if alg not in ALGORITHMS:
        raise FlowError("keys.unknown_algorithm",
                        f"unknown algorithm {alg!r}: use one of {', '.join(ALGORITHMS)}")
    kid = secrets.token_urlsafe(12)
    parameters = {"kid": kid, "alg": alg, "use": "sig"}
    key: Key = (RSAKey.generate_key(2048, parameters=parameters) if alg == "RS256"
                else ECKey.generate_key("P-256", parameters=parameters))
    row = SigningKey(kid=kid, alg=alg, private_jwk=json.dumps(key.as_dict(private=True)),
                     created_at=clock.now())
    db.session.add(row)
    return row


def current() -> SigningKey:
    """The key that signs now: the newest one not retired (made, and committed, if none)."""
    row = db.session.scalar(select(SigningKey).where(SigningKey.retired_at.is_(None))
                            .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
                            .limit(1))
    if row is None:
        row = generate()
        db.session.commit()
    return row


def retention() -> timedelta:
    """How long a retired key stays published: the longest life of a token it signed."""
    config = current_app.config
    longest = max(config["OIDC_ID_TOKEN_TTL"], config["SESSION_TOKEN_TTL"], LOGOUT_TOKEN_TTL)
    return timedelta(seconds=longest) + CLOCK_LEEWAY


def published() -> list[SigningKey]:
    """The keys in the JWKS: the current ones, and retired ones still within retention."""
    cutoff = clock.now() - retention()
    return list(db.session.scalars(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None) | (SigningKey.retired_at > cutoff))
        .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())))


def every_key() -> list[SigningKey]:
    """All the keys kept, newest first (for ``keys list``)."""
    return list(db.session.scalars(select(SigningKey).order_by(SigningKey.created_at.desc(),
                                                               SigningKey.id.desc())))


def status(row: SigningKey) -> str:
    """"current", "retiring" (still published) or "retired" (verifies nothing any more)."""
    if row.retired_at is None:
        return "current"
    return "retiring" if row.retired_at > clock.now() - retention() else "retired"


def private_key(row: SigningKey) -> Key:
    """The joserfc key of a row, private half included."""
    data = json.loads(row.private_jwk)
    return RSAKey.import_key(data) if data["kty"] == "RSA" else ECKey.import_key(data)


def public_jwk(row: SigningKey) -> dict[str, Any]:
    """The public half of a key as a JWK, with its kid, alg and use."""
    public = private_key(row).as_dict(private=False)
    public.update(kid=row.kid, alg=row.alg, use="sig")
    return public


def jwks() -> dict[str, Any]:
    """The JSON Web Key Set served at /oauth/jwks; never empty (the first key is made here)."""
    current()
    return {"keys": [public_jwk(row) for row in published()]}


def sign(claims: dict[str, Any], *, typ: str = "JWT") -> str:
    """Sign ``claims`` with the current key; ``typ`` tells token kinds apart (RFC 8725 §3.11)."""
    row = current()
    header = {"alg": row.alg, "kid": row.kid, "typ": typ}
    return jwt.encode(header, claims, private_key(row), algorithms=[row.alg])


def rotate(alg: str = DEFAULT_ALGORITHM) -> SigningKey:
    """Retire the current key(s), make a new one, drop keys past retention; commits."""
    new = generate(alg)
    now = clock.now()
    for row in db.session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None),
                                                           SigningKey.kid != new.kid)):
        row.retired_at = now
    db.session.execute(delete(SigningKey).where(SigningKey.retired_at.is_not(None),
                                                SigningKey.retired_at <= now - retention()))
    db.session.commit()
    return new
