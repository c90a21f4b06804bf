"""The terms of use and privacy policy a reader accepted, by version, when the account was made.

Registering (the form, or a first "Continue with") is where a reader accepts the
site's terms; the versions in force then (AUTH_TERMS_VERSION, AUTH_PRIVACY_VERSION)
are recorded with the account, shown on /account/data and exported with its data.
A document without a configured version is not recorded: there is nothing to
say which text was accepted.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from auth_service.extensions import db
from auth_service.models import PolicyConsent, User

# Document name → the setting holding its version in force.
DOCUMENTS = {"terms": "TERMS_VERSION", "privacy": "PRIVACY_VERSION"}


def record_acceptance(user: User, *, method: str) -> list[PolicyConsent]:
    """Record that ``user`` accepted the documents in force, signing up by ``method``
    ("password" or a provider's name); no commit. Returns the rows added."""
    added = [PolicyConsent(user_id=user.id, document=document, version=version, method=method)
             for document, setting in DOCUMENTS.items()
             if (version := current_app.config.get(setting))]
    db.session.add_all(added)
    return added


def accepted_by(user: User) -> list[PolicyConsent]:
    """What ``user`` accepted, oldest first."""
    return list(db.session.scalars(select(PolicyConsent).where(PolicyConsent.user_id == user.id)
                                   .order_by(PolicyConsent.accepted_at, PolicyConsent.id)))
