"""Local stand-ins for Facebook and GitHub that speak their documented endpoints.

Served on 127.0.0.1 with ``tests.social_support.serve``. Each checks what the
real provider checks — client id and secret, the registered redirect URI, a
single-use code, the PKCE verifier against the challenge, the bearer token —
and answers in the real provider's shapes, errors included:

- Facebook (Graph API v23.0): the OAuth dialog ``GET /v23.0/dialog/oauth``, the
  token endpoint ``GET|POST /v23.0/oauth/access_token``, and ``GET /v23.0/me``.
- GitHub: ``GET /login/oauth/authorize``, ``POST /login/oauth/access_token``
  (form-encoded unless the client sends ``Accept: application/json``), and the
  REST API ``GET /user`` and ``GET /user/emails``.

The test plays the reader at the provider with :func:`approve` / :func:`cancel`:
the dialog's GET shows a page, a POST of ``user=<id>`` (or ``action=cancel``)
answers with the redirect to ``redirect_uri``. ``?as_user=<id>`` (or
``?action=cancel``) on the GET is a shortcut that answers at once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from flask import Flask, Response, request

DOCS_ACCESS_DENIED = ("https://docs.github.com/apps/managing-oauth-apps/"
                      "troubleshooting-authorization-request-errors/#access-denied")


def approve(authorize_url: str, user: str) -> str:
    """Open the provider's consent page and approve as ``user``; returns the redirect URL."""
    page = requests.get(authorize_url, timeout=5)
    assert page.status_code == 200, page.text
    answer = requests.post(authorize_url, data={"user": user}, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def cancel(authorize_url: str) -> str:
    """Open the provider's consent page and press Cancel; returns the redirect URL."""
    page = requests.get(authorize_url, timeout=5)
    assert page.status_code == 200, page.text
    answer = requests.post(authorize_url, data={"action": "cancel"}, allow_redirects=False,
                           timeout=5)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def s256(verifier: str) -> str:
    """RFC 7636 4.2: BASE64URL(SHA256(ASCII(code_verifier))) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Grant:
    """What the consent screen granted, waiting for its code to be exchanged once."""

    user: str
    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    code_challenge: str | None
    used: bool = False


@dataclass
class _OAuthFake:
    """The parts both providers share: users, codes, tokens, a log of token requests."""

    client_id: str
    client_secret: str
    redirect_uri: str  # the one registered with the provider
    base: str = ""
    # Test controls for the token endpoint: answer 503, or hang (bounded) before answering.
    token_outage: bool = False
    token_delay: float = 0.0
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    api_requests: list[dict[str, Any]] = field(default_factory=list)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    _codes: dict[str, Grant] = field(default_factory=dict)
    _tokens: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)

    def reset(self) -> None:
        """Forget users, codes, tokens and logs; back to a healthy token endpoint."""
        with self._lock:
            self.users.clear()  # type: ignore[attr-defined]
            self._codes.clear()
            self._tokens.clear()
            self.token_requests.clear()
            self.api_requests.clear()
            self.authorize_requests.clear()
        self.token_outage = False
        self.token_delay = 0.0
        self._release.clear()

    def release(self) -> None:
        """End any hanging token request now (called when the test ends)."""
        self._release.set()

    def _issue_code(self, user: str, query: dict[str, str], scopes: frozenset[str]) -> str:
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = Grant(user=user, client_id=query["client_id"],
                                      redirect_uri=query.get("redirect_uri", ""),
                                      scopes=scopes,
                                      code_challenge=query.get("code_challenge") or None)
        return code

    def _redeem(self, code: str) -> Grant | None:
        """The grant behind ``code`` if it was never used; marks it used."""
        with self._lock:
            grant = self._codes.get(code)
            if grant is None or grant.used:
                return None
            grant.used = True
            return grant

    def _new_token(self, prefix: str, user: str, scopes: frozenset[str]) -> str:
        token = prefix + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (user, scopes)
        return token

    def _wait_if_told(self) -> None:
        if self.token_delay:
            self._release.wait(self.token_delay)

    @staticmethod
    def _bearer(prefixes: tuple[str, ...]) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() in prefixes and value.strip():
            return value.strip()
        return None


def _consent_page(title: str, users: dict[str, Any]) -> str:
    options = "".join(f'<button name="user" value="{uid}">Continue as {uid}</button>'
                      for uid in users)
    return (f"<!doctype html><title>{title}</title><form method=post>{options}"
            '<button name="action" value="cancel">Cancel</button></form>')


# --- Facebook -------------------------------------------------------------------------


@dataclass
class FacebookUser:
    id: str
    name: str
    email: str | None = None  # None: an account created with a phone number
    picture_large: str = ""
    picture_small: str = ""


@dataclass
class FakeFacebook(_OAuthFake):
    """Facebook Login (manual flow) and the Graph API ``/me`` node, version v23.0."""

    users: dict[str, FacebookUser] = field(default_factory=dict)

    def add_user(self, uid: str, name: str, email: str | None = None) -> FacebookUser:
        user = FacebookUser(id=uid, name=name, email=email,
                            picture_large=f"https://scontent.fbcdn.example/{uid}-large.jpg",
                            picture_small=f"https://scontent.fbcdn.example/{uid}-small.jpg")
        self.users[uid] = user
        return user

    def wsgi(self) -> Flask:
        app = Flask("fake_facebook")
        app.add_url_rule("/v23.0/dialog/oauth", view_func=self.dialog, methods=["GET", "POST"])
        app.add_url_rule("/v23.0/oauth/access_token", view_func=self.access_token,
                         methods=["GET", "POST"])
        app.add_url_rule("/v23.0/me", view_func=self.me)
        return app

    @staticmethod
    def error(message: str, code: int, status: int = 400, subcode: int | None = None,
              kind: str = "OAuthException") -> Response:
        """Facebook's error: ``{"error": {message, type, code, error_subcode, fbtrace_id}}``."""
        body: dict[str, Any] = {"message": message, "type": kind, "code": code,
                                "fbtrace_id": secrets.token_urlsafe(8)}
        if subcode is not None:
            body["error_subcode"] = subcode
        response = Response(json.dumps({"error": body}), status=status,
                            mimetype="application/json")
        if code == 190:
            response.headers["WWW-Authenticate"] = (
                f'OAuth "Facebook Platform" "invalid_token" "{message}"')
        return response

    def dialog(self) -> Response | tuple[str, int] | str:
        query = request.args.to_dict()
        if request.method == "GET":
            self.authorize_requests.append(query)
        if query.get("client_id") != self.client_id:
            return "Invalid App ID: the provided app ID does not look like a valid app ID.", 400
        if query.get("redirect_uri") != self.redirect_uri:
            return ("URL blocked: this redirect failed because the redirect URI is not "
                    "whitelisted in the app's Client OAuth Settings."), 400
        if query.get("response_type", "code") != "code":
            return "Unsupported response_type.", 400
        if query.get("code_challenge") and query.get("code_challenge_method") != "S256":
            return "Invalid code_challenge_method.", 400
        chosen = request.form.get("user") or query.get("as_user")
        if (request.form.get("action") or query.get("action")) == "cancel":
            return self._back(query, {"error": "access_denied", "error_code": "200",
                                      "error_description": "Permissions error",
                                      "error_reason": "user_denied"})
        if chosen is None:
            return _consent_page("Log in with Facebook", self.users)
        if chosen not in self.users:
            return "No such test user.", 400
        scopes = frozenset(re.split(r"[,\s]+", query.get("scope", "").strip())) - {""}
        code = self._issue_code(chosen, query, scopes | {"public_profile"})
        return self._back(query, {"code": code})

    @staticmethod
    def _back(query: dict[str, str], params: dict[str, str]) -> Response:
        if "state" in query:
            params = {**params, "state": query["state"]}
        separator = "&" if "?" in query["redirect_uri"] else "?"
        # Facebook appends "#_=_" to the redirect; browsers keep it, servers never see it.
        location = f"{query['redirect_uri']}{separator}{urlencode(params)}#_=_"
        return Response(status=302, headers={"Location": location})

    def access_token(self) -> Response:
        params = {**request.args.to_dict(), **request.form.to_dict()}
        self.token_requests.append({"method": request.method, "params": params,
                                    "authorization": request.headers.get("Authorization")})
        self._wait_if_told()
        if self.token_outage:
            return Response("<html><body>Sorry, something went wrong.</body></html>",
                            status=503, mimetype="text/html")
        if params.get("client_id") != self.client_id:
            return self.error("Error validating application. Invalid application ID.", 101)
        if params.get("client_secret") != self.client_secret:
            return self.error("Error validating client secret.", 1)
        code = params.get("code", "")
        grant = self._redeem(code)
        if grant is None:
            used = code in self._codes
            return self.error("This authorization code has been used." if used
                              else "Invalid verification code format.", 100,
                              subcode=36009 if used else 36007)
        if params.get("redirect_uri") != grant.redirect_uri:
            return self.error("Error validating verification code. Please make sure your "
                              "redirect_uri is identical to the one you used in the OAuth "
                              "dialog request", 100, subcode=36008)
        if grant.code_challenge is not None:
            verifier = params.get("code_verifier") or ""
            if not verifier or s256(verifier) != grant.code_challenge:
                return self.error("Invalid code verifier.", 100)
        token = self._new_token("EAAB", grant.user, grant.scopes)
        return Response(json.dumps({"access_token": token, "token_type": "bearer",
                                    "expires_in": 5_183_944}), mimetype="application/json")

    def me(self) -> Response:
        token = request.args.get("access_token") or self._bearer(("bearer", "oauth"))
        self.api_requests.append({"path": request.path, "args": request.args.to_dict(),
                                  "token": token})
        if not token:
            return self.error("An active access token must be used to query information "
                              "about the current user.", 2500)
        with self._lock:
            found = self._tokens.get(token)
        if found is None:
            return self.error("Invalid OAuth access token - Cannot parse access token", 190)
        user = self.users[found[0]]
        scopes = found[1]
        answer: dict[str, Any] = {}
        for requested in _fields(request.args.get("fields", "id,name")):
            name, _, modifier = requested.partition(".")
            if name == "id":
                answer["id"] = user.id
            elif name == "name":
                answer["name"] = user.name
            elif name == "email":
                # No key at all, not null, when there is no address or no email permission.
                if user.email and "email" in scopes:
                    answer["email"] = user.email
            elif name == "picture":
                large = modifier == "type(large)"
                size = 200 if large else 50
                answer["picture"] = {"data": {
                    "height": size, "width": size, "is_silhouette": False,
                    "url": user.picture_large if large else user.picture_small}}
            else:
                return self.error(f"(#100) Tried accessing nonexisting field ({name}) on "
                                  "node type (User)", 100)
        return Response(json.dumps(answer), mimetype="application/json")


def _fields(raw: str) -> list[str]:
    """Split a Graph API ``fields`` list on the commas that are not inside () or {}."""
    found, depth, current = [], 0, ""
    for char in raw:
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        if char == "," and depth == 0:
            found.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        found.append(current.strip())
    return found


# --- GitHub ---------------------------------------------------------------------------


@dataclass
class GitHubUser:
    id: int
    login: str
    name: str | None = None
    email: str | None = None  # the public address on the profile: may be null or unverified
    emails: list[dict[str, Any]] = field(default_factory=list)  # what /user/emails lists

    @property
    def avatar_url(self) -> str:
        return f"https://avatars.githubusercontent.com/u/{self.id}?v=4"


@dataclass
class FakeGitHub(_OAuthFake):
    """A GitHub OAuth App's web application flow and the REST API user endpoints."""

    users: dict[str, GitHubUser] = field(default_factory=dict)

    def add_user(self, uid: int, login: str, *, name: str | None = None,
                 email: str | None = None,
                 emails: list[dict[str, Any]] | None = None) -> GitHubUser:
        user = GitHubUser(id=uid, login=login, name=name, email=email, emails=emails or [])
        self.users[login] = user
        return user

    def wsgi(self) -> Flask:
        app = Flask("fake_github")
        app.add_url_rule("/login/oauth/authorize", view_func=self.authorize,
                         methods=["GET", "POST"])
        app.add_url_rule("/login/oauth/access_token", view_func=self.access_token,
                         methods=["POST"])
        app.add_url_rule("/user", view_func=self.user)
        app.add_url_rule("/user/emails", view_func=self.user_emails)
        return app

    def _redirect_allowed(self, given: str) -> bool:
        """GitHub: the callback URL itself or a subdirectory of it, same host and port."""
        if not given:
            return True
        registered, wanted = urlsplit(self.redirect_uri), urlsplit(given)
        return (wanted.scheme, wanted.netloc) == (registered.scheme, registered.netloc) and (
            wanted.path == registered.path
            or wanted.path.startswith(registered.path.rstrip("/") + "/"))

    def authorize(self) -> Response | tuple[str, int] | str:
        query = request.args.to_dict()
        if request.method == "GET":
            self.authorize_requests.append(query)
        if query.get("client_id") != self.client_id:
            return "404: this OAuth App does not exist.", 404
        if not self._redirect_allowed(query.get("redirect_uri", "")):
            # GitHub sends the error to the registered callback, not the one asked for.
            return self._back(self.redirect_uri, query, {
                "error": "redirect_uri_mismatch",
                "error_description": "The redirect_uri MUST match the registered callback "
                                     "URL for this application."})
        if query.get("code_challenge") and query.get("code_challenge_method") != "S256":
            return "code_challenge_method must be S256.", 400
        redirect_uri = query.get("redirect_uri") or self.redirect_uri
        if (request.form.get("action") or query.get("action")) == "cancel":
            return self._back(redirect_uri, query, {
                "error": "access_denied",
                "error_description": "The user has denied your application access.",
                "error_uri": DOCS_ACCESS_DENIED})
        chosen = request.form.get("user") or query.get("as_user")
        if chosen is None:
            return _consent_page("Authorize application", self.users)
        if chosen not in self.users:
            return "No such test user.", 400
        scopes = frozenset(re.split(r"[,\s]+", query.get("scope", "").strip())) - {""}
        code = self._issue_code(chosen, query, scopes)
        return self._back(redirect_uri, query, {"code": code})

    @staticmethod
    def _back(redirect_uri: str, query: dict[str, str], params: dict[str, str]) -> Response:
        if "state" in query:
            params = {**params, "state": query["state"]}
        separator = "&" if "?" in redirect_uri else "?"
        return Response(status=302,
                        headers={"Location": f"{redirect_uri}{separator}{urlencode(params)}"})

    def _token_answer(self, body: dict[str, str]) -> Response:
        """JSON when asked for it (``Accept: application/json``), else form-encoded, status 200."""
        if "application/json" in request.headers.get("Accept", ""):
            return Response(json.dumps(body), mimetype="application/json")
        return Response(urlencode(body), mimetype="application/x-www-form-urlencoded")

    def access_token(self) -> Response:
        params = {**request.args.to_dict(), **request.form.to_dict()}
        if request.is_json and isinstance(request.get_json(silent=True), dict):
            params.update({k: str(v) for k, v in request.get_json().items()})
        self.token_requests.append({"params": params, "accept": request.headers.get("Accept"),
                                    "authorization": request.headers.get("Authorization")})
        self._wait_if_told()
        if self.token_outage:
            return Response("<html><body>Unicorn! This page is taking too long to load."
                            "</body></html>", status=503, mimetype="text/html")
        if (params.get("client_id") != self.client_id
                or params.get("client_secret") != self.client_secret):
            return self._token_answer({
                "error": "incorrect_client_credentials",
                "error_description": "The client_id and/or client_secret passed are incorrect."})
        grant = self._redeem(params.get("code", ""))
        if grant is None or grant.client_id != params["client_id"]:
            return self._token_answer({
                "error": "bad_verification_code",
                "error_description": "The code passed is incorrect or expired."})
        if params.get("redirect_uri") and params["redirect_uri"] != grant.redirect_uri:
            return self._token_answer({
                "error": "redirect_uri_mismatch",
                "error_description": "The redirect_uri MUST match the registered callback "
                                     "URL for this application."})
        if grant.code_challenge is not None:
            verifier = params.get("code_verifier") or ""
            if not verifier or s256(verifier) != grant.code_challenge:
                return self._token_answer({
                    "error": "bad_verification_code",
                    "error_description": "The code_verifier does not match the "
                                         "code_challenge."})
        token = self._new_token("gho_", grant.user, grant.scopes)
        return self._token_answer({"access_token": token, "token_type": "bearer",
                                   "scope": ",".join(sorted(grant.scopes))})

    @staticmethod
    def _api_error(message: str, status: int, docs: str = "https://docs.github.com/rest") -> (
            Response):
        return Response(json.dumps({"message": message, "documentation_url": docs,
                                    "status": str(status)}),
                        status=status, mimetype="application/json")

    def _caller(self) -> tuple[GitHubUser, frozenset[str]] | Response:
        token = self._bearer(("bearer", "token"))
        self.api_requests.append({"path": request.path, "token": token,
                                  "user_agent": request.headers.get("User-Agent")})
        if token is None:
            return self._api_error("Requires authentication", 401)
        with self._lock:
            found = self._tokens.get(token)
        if found is None:
            return self._api_error("Bad credentials", 401)
        return self.users[found[0]], found[1]

    def user(self) -> Response:
        caller = self._caller()
        if isinstance(caller, Response):
            return caller
        user = caller[0]
        return Response(json.dumps({
            "login": user.login, "id": user.id, "node_id": f"MDQ6VXNlcj{user.id}",
            "avatar_url": user.avatar_url, "html_url": f"https://github.com/{user.login}",
            "type": "User", "site_admin": False, "name": user.name, "company": None,
            "blog": "", "location": None, "email": user.email, "hireable": None, "bio": None,
            "public_repos": 3, "followers": 1, "following": 0,
            "created_at": "2015-03-04T05:06:07Z", "updated_at": "2024-01-02T03:04:05Z",
        }), mimetype="application/json")

    def user_emails(self) -> Response:
        caller = self._caller()
        if isinstance(caller, Response):
            return caller
        user, scopes = caller
        if not scopes & {"user", "user:email"}:
            # Without the scope GitHub answers as if the resource did not exist.
            return self._api_error("Not Found", 404)
        return Response(json.dumps([
            {"email": e["email"], "primary": bool(e.get("primary")),
             "verified": bool(e.get("verified")), "visibility": e.get("visibility")}
            for e in user.emails]), mimetype="application/json")


def parse_form(text: str) -> dict[str, str]:
    """A form-encoded body (GitHub's default token answer) as a dict."""
    return dict(parse_qsl(text))
