"""Who is signed in to the console, and whether a state change really comes from it.

The session is an HttpOnly, SameSite=Strict cookie holding a token with the same claims
as an API token (`api.auth`), so page scripts never see it and roles are checked by the
same code. A state-changing request must come from this origin (the `Origin` header) and
carry the CSRF token derived from the session, in a form field or the X-CSRF-Token header
htmx sends.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request, Response

from api.auth import InvalidTokenError, Principal, decode_token, issue_token
from api.state import AppState

COOKIE = "fireline_session"
SESSION_SECONDS = 8 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class CsrfRefused(Exception):
    """A state change from another origin, or without the session's token."""


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.fireline
    return state


def signed_in(request: Request) -> Principal | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return decode_token(state_of(request).jwt_accepted, token)
    except InvalidTokenError:
        return None


def start_session(request: Request, response: Response, *, org: str, role: str, email: str) -> None:
    token = issue_token(
        state_of(request).jwt_secret, org=org, roles=[role], sub=email, ttl_seconds=SESSION_SECONDS
    )
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def csrf_token(request: Request) -> str:
    session = request.cookies.get(COOKIE, "")
    secret = state_of(request).jwt_secret.encode()
    return hmac.new(secret, b"csrf:" + session.encode(), hashlib.sha256).hexdigest()[:40]


def check_same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin is not None and origin != own:
        raise CsrfRefused(f"a request from {origin} may not change anything here")


def check_csrf(request: Request, form_token: str | None) -> None:
    check_same_origin(request)
    sent = request.headers.get(CSRF_HEADER) or form_token or ""
    if not request.cookies.get(COOKIE) or not hmac.compare_digest(sent, csrf_token(request)):
        raise CsrfRefused("the form is stale or did not come from this console: reload it")


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form's fields as strings, once its CSRF token has been checked."""
    posted = {key: str(value) for key, value in (await request.form()).items()}
    check_csrf(request, posted.get(CSRF_FIELD))
    return posted
