"""Infrastructure connections: where runbook commands run, and with which credential.

Anyone in the org may list and read connections; ORG_ADMIN and SRE_LEAD may change and
test them. Credentials are write-only, and a rejected body is described by field path
only: FastAPI's default 422 would echo the input, credential included.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from api.auth import Principal, Role, require_roles
from api.dependencies import ConnectionServiceDep, CurrentPrincipal
from api.schemas.connections import (
    ConnectionCheckOut,
    ConnectionCreateIn,
    ConnectionListOut,
    ConnectionOut,
    ConnectionUpdateIn,
)
from core.errors import InvalidInputError, describe_validation_error


class InputRedactingRoute(APIRoute):
    """Answers a request validation error with field paths and messages, never the input."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_without_echo(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as err:
                raise InvalidInputError(describe_validation_error(err)) from None

        return handle_without_echo


router = APIRouter(prefix="/v1/connections", tags=["connections"], route_class=InputRedactingRoute)

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
    """Connect once: reachability, and for ssh the host key and the login.

    A failed check is still a 200 with the details; an unknown connection is a 404.
    """
    check = await connections.test(org_id=principal.org, name=name)
    return ConnectionCheckOut.model_validate(check)
