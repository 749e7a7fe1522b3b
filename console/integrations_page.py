"""Integrations (ORG_ADMIN): the webhook URL of every source to copy into the vendor and
how it authenticates; the org's connections, added, tested and deleted, credentials
write-only; and the people who sign in, added and removed. Secrets go in and are never
shown again (a generated password is shown once, to the admin who created it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
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


@dataclass(frozen=True)
class IntegrationsPage:
    """The page, for the admin looking at it: shown as it is, or after a change."""

    request: Request
    me: Principal
    hooks: WebhookConfigService
    conns: ConnectionService

    @property
    def users(self) -> UserService:
        return UserService(state_of(self.request).db)

    async def after(self, change: Callable[[], Awaitable[str]]) -> Response:
        """Make the change (ORG_ADMIN only), then the page with what happened."""
        if not self.me.has_any_role(ADMINS):
            return render(self.request, "not_found.html", 404)
        try:
            notice = await change()
        except (InvalidInputError, ConflictError, NotFoundError, ValueError) as refused:
            return await self.show(error=str(refused), status_code=422)
        return await self.show(notice=notice)

    async def show(
        self, *, notice: str | None = None, error: str | None = None, status_code: int = 200
    ) -> Response:
        me = self.me
        if not me.has_any_role(ADMINS):
            return render(self.request, "not_found.html", 404)
        return render(
            self.request,
            "integrations.html",
            status_code,
            webhooks=[await self.hooks.get(org_id=me.org, source=s) for s in sorted(SOURCES)],
            connections=await self.conns.list(org_id=me.org),
            users=await self.users.list(org_id=me.org),
            auth_kinds=[kind.value for kind in AuthKind],
            connection_kinds=[kind.value for kind in ConnectionKind],
            credential_kinds=[kind.value for kind in CredentialKind],
            roles=FIRELINE_ROLES,
            notice=notice,
            error=error,
        )


async def integrations_page(
    request: Request, me: Person, hooks: WebhookConfigServiceDep, conns: ConnectionServiceDep
) -> IntegrationsPage:
    return IntegrationsPage(request, me, hooks, conns)


async def changed_page(
    page: Annotated[IntegrationsPage, Depends(integrations_page)], csrf_token: CsrfToken = ""
) -> IntegrationsPage:
    """The page a form posted to, once its CSRF token checks out."""
    check_csrf(page.request, csrf_token)
    return page


Page = Annotated[IntegrationsPage, Depends(integrations_page)]
ChangedPage = Annotated[IntegrationsPage, Depends(changed_page)]


@router.get(PAGE, response_class=HTMLResponse)
async def integrations(page: Page) -> Response:
    return await page.show()


@router.post("/settings/webhooks/{source}", response_class=HTMLResponse)
async def configure_webhook(
    source: str,
    page: ChangedPage,
    auth: Annotated[str, Form()],
    secret: Secret = "",
    username: Text = "",
    header_name: Text = "",
    rotate_url: Annotated[bool, Form()] = False,
) -> Response:
    async def change() -> str:
        await page.hooks.configure(
            org_id=page.me.org,
            source=source,
            kind=auth,
            secret=secret or None,
            username=username or None,
            header_name=header_name or None,
            rotate_url=rotate_url,
        )
        return f"The {source} webhook now authenticates with {auth}."

    return await page.after(change)


@router.post("/settings/connections", response_class=HTMLResponse)
async def create_connection(
    page: ChangedPage,
    name: Text,
    kind: Annotated[str, Form()],
    host: Text = "",
    port: Annotated[int | None, Form()] = None,
    username: Text = "",
    database: Text = "",
    host_key: Secret = "",
    credential_kind: Annotated[str, Form()] = "none",
    secret: Secret = "",
) -> Response:
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
        await page.conns.create(
            org_id=page.me.org, name=name.strip(), spec=spec, credential=credential
        )
        return f"Connection {name.strip()} added."

    return await page.after(change)


@router.post("/settings/connections/{name}/test", response_class=HTMLResponse)
async def test_connection(name: str, page: ChangedPage) -> Response:
    async def change() -> str:
        check = await page.conns.test(org_id=page.me.org, name=name)
        if check.error:
            return f"{name}: {check.error}"
        return f"{name}: reachable, authenticated" + (
            f", host key {check.fingerprint}" if check.fingerprint else ""
        )

    return await page.after(change)


@router.post("/settings/connections/{name}/delete", response_class=HTMLResponse)
async def delete_connection(name: str, page: ChangedPage) -> Response:
    async def change() -> str:
        await page.conns.delete(org_id=page.me.org, name=name)
        return f"Connection {name} deleted, with its credential."

    return await page.after(change)


@router.post("/settings/users", response_class=HTMLResponse)
async def add_user(
    page: ChangedPage, email: Text, role: Annotated[str, Form()], password: Secret = ""
) -> Response:
    async def change() -> str:
        user, generated = await page.users.add(
            org_id=page.me.org, email=email, role=role, password=password or None
        )
        if generated:
            return f"{user.email} added as {user.role}. Their password, shown once: {generated}"
        return f"{user.email} added as {user.role}."

    return await page.after(change)


@router.post("/settings/users/{email}/remove", response_class=HTMLResponse)
async def remove_user(email: str, page: ChangedPage) -> Response:
    async def change() -> str:
        await page.users.remove(org_id=page.me.org, email=email, by=page.me.sub)
        return f"{email} removed: they can no longer sign in."

    return await page.after(change)
