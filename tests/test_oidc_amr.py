"""How the reader signed in reaches the OpenID Connect client: the ID token's amr and auth_time
say "password and a code from the app" after a two-step sign-in, read by pyoidc."""

from __future__ import annotations

import pyotp

from auth_service.models import TotpFactor, User
from tests.oidc_support import (
    EMAIL,
    RP,
    RelyingParty,
    base,
    port,
    reader,
    settings,
    site,
)

SECRET = pyotp.random_base32()


def test_the_id_token_carries_the_second_factor(base, reader, site, db_session, clock):
    user = db_session.query(User).filter_by(email=EMAIL).one()
    db_session.add(TotpFactor(user_id=user.id, secret=SECRET, confirmed_at=clock.now()))
    db_session.commit()
    rp = RelyingParty(base, site)
    url, _ = rp.authorization_url()
    login = reader.get(url).headers["Location"]
    asked = reader.sign_in(EMAIL, login_url=login)
    assert asked.headers["Location"].endswith("/login/two-factor")
    page = reader.get("/login/two-factor")
    done = reader.post("/login/two-factor", {"csrf_token": reader.csrf(page),
                                             "code": pyotp.TOTP(SECRET).at(clock.now())})
    assert done.status_code == 303
    callback = reader.follow_to(done.headers["Location"], RP)
    tokens = rp.exchange(rp.callback(callback))
    assert tokens["id_token"]["amr"] == ["pwd", "otp"]
    assert tokens["id_token"]["auth_time"] == int(clock.now().timestamp())
    session = reader.get("/api/session").json()["session"]
    assert session["amr"] == ["pwd", "otp"]
    assert session["auth_time"] == clock.now().isoformat().replace("+00:00", "Z")
