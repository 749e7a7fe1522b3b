"""`fireline token`: print a bearer token signed with this installation's secret."""

from __future__ import annotations

import typer

from api.auth import Role, issue_token
from core.settings import Settings

CLI_TOKEN_TTL_SECONDS = 12 * 3600
KNOWN_ROLES = tuple(role.value for role in Role)


def parse_roles(roles: list[str]) -> list[str]:
    """Known roles, upper-cased; BadParameter names the unknown ones and the choices."""
    parsed = [role.strip().upper() for role in roles]
    unknown = [role for role, name in zip(roles, parsed, strict=True) if name not in KNOWN_ROLES]
    if unknown:
        raise typer.BadParameter(
            f"unknown role(s): {', '.join(unknown)}; choose from {', '.join(KNOWN_ROLES)}",
            param_hint="--role",
        )
    if not parsed:
        raise typer.BadParameter("give at least one role", param_hint="--role")
    return parsed


def print_token(
    *, org: str, roles: list[str], sub: str, ttl_seconds: int = CLI_TOKEN_TTL_SECONDS
) -> None:
    if not org.strip():
        raise typer.BadParameter("must not be empty", param_hint="--org")
    checked_roles = parse_roles(roles)  # before the secret: a refused call writes nothing
    secret = Settings().effective_jwt_secret()
    typer.echo(issue_token(secret, org=org, roles=checked_roles, sub=sub, ttl_seconds=ttl_seconds))
