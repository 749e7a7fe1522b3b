"""Vendor webhooks: each org's own URL per source, its authentication, and deliveries.

Vendors cannot send a Fireline token, so `POST /v1/webhooks/{source}/{hook_id}` is
authenticated by the endpoint's unguessable id plus the configured signature or secret.
`POST /v1/webhooks/{source}` takes the same payloads with a Fireline token (scripts, tests).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from api.auth import Principal, Role, require_roles
from api.dependencies import (
    IngestRateLimitDep,
    WebhookConfigServiceDep,
    WebhookServiceDep,
)
from api.schemas.webhooks import WebhookConfigIn, WebhookConfigOut
from core.ids import utcnow
from services.webhooks import WebhookRequest, check_source

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

Admin = Annotated[Principal, Depends(require_roles(Role.ORG_ADMIN))]
Sender = Annotated[Principal, Depends(require_roles(Role.ORG_ADMIN, Role.ANALYST))]
Source = Annotated[str, Path(max_length=32)]
HookId = Annotated[str, Path(max_length=64)]


@router.get("/{source}/config")
async def get_config(
    source: Source, principal: Admin, configs: WebhookConfigServiceDep
) -> WebhookConfigOut:
    """The URL to paste into the vendor, created on first use."""
    check_source(source)
    view = await configs.get(org_id=principal.org, source=source)
    return WebhookConfigOut.model_validate(view)


@router.put("/{source}/config")
async def put_config(
    source: Source, body: WebhookConfigIn, principal: Admin, configs: WebhookConfigServiceDep
) -> WebhookConfigOut:
    check_source(source)
    view = await configs.configure(
        org_id=principal.org,
        source=source,
        kind=body.auth,
        secret=body.secret,
        username=body.username,
        header_name=body.header_name,
        rotate_url=body.rotate_url,
    )
    return WebhookConfigOut.model_validate(view)


@router.post("/{source}")
async def receive_with_token(
    source: Source,
    request: Request,
    principal: Sender,
    webhooks: WebhookServiceDep,
    rate_limit: IngestRateLimitDep,
) -> JSONResponse:
    rate_limit(principal.org)
    delivery = await _webhook_request(source, request)
    result = await webhooks.receive(delivery, org_id=principal.org)
    return JSONResponse(result.body, status_code=result.status_code)


@router.post("/{source}/{hook_id}")
async def receive_from_vendor(
    source: Source,
    hook_id: HookId,
    request: Request,
    webhooks: WebhookServiceDep,
    rate_limit: IngestRateLimitDep,
) -> JSONResponse:
    delivery = await _webhook_request(source, request)
    org_id = await webhooks.authenticate(delivery, hook_id)
    rate_limit(org_id)
    result = await webhooks.receive(delivery, org_id=org_id)
    return JSONResponse(result.body, status_code=result.status_code)


async def _webhook_request(source: str, request: Request) -> WebhookRequest:
    return WebhookRequest(
        source=source,
        headers={name.lower(): value for name, value in request.headers.items()},
        query=dict(request.query_params),
        body=await request.body(),
        content_type=request.headers.get("content-type"),
        received_at=utcnow(),
    )
