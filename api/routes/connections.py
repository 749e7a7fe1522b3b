"""Infrastructure connections: where runbook commands run (ssh, local), what http and db
steps talk to (db: PostgreSQL, or a SQLite file with no host), and with which credential.

Anyone in the org may list and read connections; ORG_ADMIN and SRE_LEAD may change and
test them. Credentials are write-only (a rejected body is never echoed: api/errors.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from api.auth import Principal, Role, require_roles
from api.dependencies import ConnectionServiceDep, CurrentPrincipal
from api.schemas.connections import (
    ConnectionCheckOut,
    ConnectionCreateIn,
    ConnectionListOut,
    ConnectionOut,
    ConnectionUpdateIn,
)

router = APIRouter(prefix="/v1/connections", tags=["connections"])

Manager = Annotated[Principal, Depends(require_roles(Role.ORG_ADMIN, Role.SRE_LEAD))]


@router.get("")
async def list_connections(
    principal: CurrentPrincipal, connections: ConnectionServiceDep
) -> ConnectionListOut:
    views = await connections.list(org_id=principal.org)
    return ConnectionListOut(items=[ConnectionOut.model_validate(view) for view in views])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_connection(
    body: ConnectionCreateIn, principal: Manager, connections: ConnectionServiceDep
) -> ConnectionOut:
    view = await connections.create(
        org_id=principal.org,
        name=body.name,
        spec=body.spec(),
        credential=body.credential.credential() if body.credential is not None else None,
    )
    return ConnectionOut.model_validate(view)


@router.get("/{name}")
async def get_connection(
    name: str, principal: CurrentPrincipal, connections: ConnectionServiceDep
) -> ConnectionOut:
    return ConnectionOut.model_validate(await connections.get(org_id=principal.org, name=name))


@router.put("/{name}")
async def update_connection(
    name: str, body: ConnectionUpdateIn, principal: Manager, connections: ConnectionServiceDep
) -> ConnectionOut:
    """Replace every field. Omit `credential` to keep the stored one; `null` removes it."""
    view = await connections.update(
        org_id=principal.org, name=name, spec=body.spec(), credential=body.credential_change()
    )
    return ConnectionOut.model_validate(view)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_connection(
    name: str, principal: Manager, connections: ConnectionServiceDep
) -> None:
    await connections.delete(org_id=principal.org, name=name)


@router.post("/{name}/test")
async def test_connection(
    name: str, principal: Manager, connections: ConnectionServiceDep
) -> ConnectionCheckOut:
    """Connect once: reachability, and for ssh the host key and the login; for db the
    login and `SELECT 1` (read-only).

    A failed check is still a 200 with the details; an unknown connection is a 404.
    """
    check = await connections.test(org_id=principal.org, name=name)
    return ConnectionCheckOut.model_validate(check)
