"""Integrations (ORG_ADMIN): the webhook URL of every source to copy into the vendor and
how it authenticates; the org's connections, added, tested and deleted, credentials
write-only; and the people who sign in, added and removed. Secrets go in and are never
shown again (a generated password is shown once, to the admin who created it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import Principal
from api.dependencies import ConnectionServiceDep, WebhookConfigServiceDep
from console.pages import ADMINS, Person, render
from console.session import CSRF_FIELD, check_csrf, state_of
from core.errors import ConflictError, InvalidInputError, NotFoundError
from dsl.runbook_plan import FIRELINE_ROLES
from ingest.auth import AuthKind
from ingest.sources import SOURCES
from services.connection_rules import ConnectionKind, ConnectionSpec, Credential, CredentialKind
from services.connections import ConnectionService
from services.users import UserService
from services.webhook_config import WebhookConfigService

PAGE = "/settings/integrations"
CsrfToken = Annotated[str, Form(alias=CSRF_FIELD)]
Text = Annotated[str, Form(max_length=1024)]
Secret = Annotated[str, Form(max_length=20_000)]

router = APIRouter(include_in_schema=False)


@router.get(PAGE, response_class=HTMLResponse)
async def integrations(
    request: Request, me: Person, hooks: WebhookConfigServiceDep, conns: ConnectionServiceDep
) -> Response:
    return await _page(request, me, hooks, conns)


@router.post("/settings/webhooks/{source}", response_class=HTMLResponse)
async def configure_webhook(
    request: Request,
    source: str,
    me: Person,
    hooks: WebhookConfigServiceDep,
    conns: ConnectionServiceDep,
    auth: Annotated[str, Form()],
    secret: Secret = "",
    username: Text = "",
    header_name: Text = "",
    rotate_url: Annotated[bool, Form()] = False,
    csrf_token: CsrfToken = "",
) -> Response:
    check_csrf(request, csrf_token)

    async def change() -> str:
        await hooks.configure(
            org_id=me.org,
            source=source,
            kind=auth,
            secret=secret or None,
            username=username or None,
            header_name=header_name or None,
            rotate_url=rotate_url,
        )
        return f"The {source} webhook now authenticates with {auth}."

    return await _after(request, me, hooks, conns, change)


@router.post("/settings/connections", response_class=HTMLResponse)
async def create_connection(
    request: Request,
    me: Person,
    hooks: WebhookConfigServiceDep,
    conns: ConnectionServiceDep,
    name: Text,
    kind: Annotated[str, Form()],
    host: Text = "",
    port: Annotated[int | None, Form()] = None,
    username: Text = "",
    database: Text = "",
    host_key: Secret = "",
    credential_kind: Annotated[str, Form()] = "none",
    secret: Secret = "",
    csrf_token: CsrfToken = "",
) -> Response:
    check_csrf(request, csrf_token)
    spec = ConnectionSpec(
        kind=kind,
        host=host or None,
        port=port,
        username=username or None,
        database=database or None,
        host_key=host_key.strip() or None,
    )
    credential = Credential(kind=credential_kind, secret=secret) if secret else None

    async def change() -> str:
        await conns.create(org_id=me.org, name=name.strip(), spec=spec, credential=credential)
        return f"Connection {name.strip()} added."

    return await _after(request, me, hooks, conns, change)


@router.post("/settings/connections/{name}/test", response_class=HTMLResponse)
async def test_connection(
    request: Request,
    name: str,
    me: Person,
    hooks: WebhookConfigServiceDep,
    conns: ConnectionServiceDep,
    csrf_token: CsrfToken = "",
) -> Response:
    check_csrf(request, csrf_token)

    async def change() -> str:
        check = await conns.test(org_id=me.org, name=name)
        if check.error:
            return f"{name}: {check.error}"
        return f"{name}: reachable, authenticated" + (
            f", host key {check.fingerprint}" if check.fingerprint else ""
        )

    return await _after(request, me, hooks, conns, change)


@router.post("/settings/connections/{name}/delete", response_class=HTMLResponse)
async def delete_connection(
    request: Request,
    name: str,
    me: Person,
    hooks: WebhookConfigServiceDep,
    conns: ConnectionServiceDep,
    csrf_token: CsrfToken = "",
) -> Response:
    check_csrf(request, csrf_token)

    async def change() -> str:
        await conns.delete(org_id=me.org, name=name)
        return f"Connection {name} deleted, with its credential."

    return await _after(request, me, hooks, conns, change)


@router.post("/settings/users", response_class=HTMLResponse)
async def add_user(
    request: Request,
    me: Person,
    hooks: WebhookConfigServiceDep,
    conns: ConnectionServiceDep,
    email: Text,
    role: Annotated[str, Form()],
    password: Secret = "",
    csrf_token: CsrfToken = "",
) -> Response:
    check_csrf(request, csrf_token)

    async def change() -> str:
        users = UserService(state_of(request).db)
        user, generated = await users.add(
            org_id=me.org, email=email, role=role, password=password or None
        )
        if generated:
            return f"{user.email} added as {user.role}. Their password, shown once: {generated}"
        return f"{user.email} added as {user.role}."

    return await _after(request, me, hooks, conns, change)


@router.post("/settings/users/{email}/remove", response_class=HTMLResponse)
async def remove_user(
    request: Request,
    email: str,
    me: Person,
    hooks: WebhookConfigServiceDep,
    conns: ConnectionServiceDep,
    csrf_token: CsrfToken = "",
) -> Response:
    check_csrf(request, csrf_token)

    async def change() -> str:
        await UserService(state_of(request).db).remove(org_id=me.org, email=email, by=me.sub)
        return f"{email} removed: they can no longer sign in."

    return await _after(request, me, hooks, conns, change)


async def _after(
    request: Request,
    me: Principal,
    hooks: WebhookConfigService,
    conns: ConnectionService,
    change: Callable[[], Awaitable[str]],
) -> Response:
    """Make the change (ORG_ADMIN only), then the page with what happened."""
    if not me.has_any_role(ADMINS):
        return render(request, "not_found.html", 404)
    try:
        notice = await change()
    except (InvalidInputError, ConflictError, NotFoundError, ValueError) as refused:
        return await _page(request, me, hooks, conns, error=str(refused), status_code=422)
    return await _page(request, me, hooks, conns, notice=notice)


async def _page(
    request: Request,
    me: Principal,
    hooks: WebhookConfigService,
    conns: ConnectionService,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    if not me.has_any_role(ADMINS):
        return render(request, "not_found.html", 404)
    return render(
        request,
        "integrations.html",
        status_code,
        webhooks=[await hooks.get(org_id=me.org, source=source) for source in sorted(SOURCES)],
        connections=await conns.list(org_id=me.org),
        users=await UserService(state_of(request).db).list(org_id=me.org),
        auth_kinds=[kind.value for kind in AuthKind],
        connection_kinds=[kind.value for kind in ConnectionKind],
        credential_kinds=[kind.value for kind in CredentialKind],
        roles=FIRELINE_ROLES,
        notice=notice,
        error=error,
    )
