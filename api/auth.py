"""JWT bearer authentication (HS256) and role checks for route dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.state import AppState
from core.ids import utcnow

ALGORITHM = "HS256"
DEFAULT_TTL_SECONDS = 3600


class Role(StrEnum):
    ORG_ADMIN = "ORG_ADMIN"
    SRE_LEAD = "SRE_LEAD"
    ONCALL_ENGINEER = "ONCALL_ENGINEER"
    ANALYST = "ANALYST"
    VIEWER = "VIEWER"


@dataclass(frozen=True)
class Principal:
    sub: str
    org: str
    roles: frozenset[str]

    def has_any_role(self, roles: Iterable[str]) -> bool:
        return not self.roles.isdisjoint(roles)


class InvalidTokenError(Exception):
    pass


def issue_token(
    secret: str,
    *,
    org: str,
    roles: Iterable[str],
    sub: str,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
) -> str:
    now = utcnow()
    claims = {
        "sub": sub,
        "org": org,
        "roles": list(roles),
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secrets: str | Sequence[str], token: str) -> Principal:
    """The token's principal, signed with one of `secrets` (the current one first, then
    those before a rotation); InvalidTokenError says what is wrong with it."""
    accepted = [secrets] if isinstance(secrets, str) else list(secrets)
    for index, secret in enumerate(accepted):
        try:
            claims = jwt.decode(
                token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "iat"]}
            )
        except jwt.InvalidSignatureError as error:
            if index < len(accepted) - 1:
                continue
            raise InvalidTokenError(f"invalid token: {error}") from error
        except jwt.ExpiredSignatureError as error:
            raise InvalidTokenError("token has expired") from error
        except jwt.InvalidTokenError as error:
            raise InvalidTokenError(f"invalid token: {error}") from error
        return _principal_from(claims)
    raise InvalidTokenError("invalid token: no signing secret is configured")


def _principal_from(claims: dict[str, Any]) -> Principal:
    org, roles = claims.get("org"), claims.get("roles")
    if not isinstance(org, str) or not org:
        raise InvalidTokenError("invalid token: claim 'org' must be a non-empty string")
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise InvalidTokenError("invalid token: claim 'roles' must be a list of strings")
    return Principal(sub=str(claims["sub"]), org=org, roles=frozenset(roles))


_bearer = HTTPBearer(auto_error=False, description="JWT with claims sub, org, roles")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from `Authorization: Bearer <jwt>`; 401 when missing or invalid."""
    if credentials is None:
        raise _unauthorized("missing bearer token")
    state: AppState = request.app.state.fireline
    try:
        return decode_token(state.jwt_accepted, credentials.credentials)
    except InvalidTokenError as error:
        raise _unauthorized(str(error)) from error


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that returns the caller when they hold one of `roles`, else 403."""
    needed = tuple(Role(role).value for role in roles)  # a typo fails at import time

    async def principal_with_role(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if not principal.has_any_role(needed):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"requires one of the roles: {', '.join(needed)}",
            )
        return principal

    return principal_with_role


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=message, headers={"WWW-Authenticate": "Bearer"}
    )
