"""Vendor webhook deliveries: authenticate, map, absorb retries, ingest (DESIGN §5).

A delivery is answered only after its incidents and events are committed. When the
vendor gives the delivery an id, the first answer is kept and a retry of the same
delivery gets that answer again without touching anything.

A delivery that describes no incident (a test ping, a ticket Fireline opened itself) or
reports a change made by Fireline's own account (services/webhook_echoes.py) is answered
200 with the reason in `ignored`, and stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import InvalidInputError, NotFoundError
from ingest.jsonbody import parse_json
from ingest.sources import SOURCES, UnknownSourceError, map_delivery
from ingest.sources.base import Delivery, PayloadShapeError
from services.ingestion import IngestOutcome, IngestService, RawPayload
from services.webhook_config import WebhookConfigService
from services.webhook_echoes import OwnAccounts


@dataclass(frozen=True)
class WebhookRequest:
    source: str
    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]
    body: bytes
    content_type: str | None
    received_at: datetime


@dataclass(frozen=True)
class WebhookResult:
    status_code: int
    body: dict[str, Any]


def check_source(source: str) -> None:
    """NotFoundError listing the known sources, for an unknown one."""
    if source not in SOURCES:
        raise NotFoundError(str(UnknownSourceError(source)))


class WebhookService:
    def __init__(
        self,
        config: WebhookConfigService,
        ingest: IngestService,
        own_accounts: OwnAccounts | None = None,
    ) -> None:
        self._config = config
        self._ingest = ingest
        self._own_accounts = own_accounts or OwnAccounts(None)

    async def authenticate(self, request: WebhookRequest, hook_id: str) -> str:
        """The org owning the endpoint at `hook_id`; 404 or 401 otherwise."""
        check_source(request.source)
        return await self._config.authenticate(
            source=request.source,
            hook_id=hook_id,
            headers=request.headers,
            query=request.query,
            body=request.body,
        )

    async def receive(self, request: WebhookRequest, *, org_id: str) -> WebhookResult:
        check_source(request.source)
        payload = parse_json(request.body, request.content_type)
        try:
            delivery = map_delivery(request.source, payload, request.headers, request.received_at)
        except PayloadShapeError as error:
            raise InvalidInputError(str(error)) from error
        ignored = await self._ignored(org_id, request.source, delivery)
        if ignored is not None:
            return _ignored_result(delivery.delivery_id, ignored)
        if delivery.delivery_id:
            seen = await self._config.find_delivery(
                org_id=org_id, source=request.source, delivery_id=delivery.delivery_id
            )
            if seen is not None:
                return WebhookResult(seen.status_code, {**seen.response, "duplicate": True})
        outcomes = await self._ingest.ingest_many(
            org_id=org_id,
            actor=f"webhook:{request.source}",
            incidents=delivery.incidents,
            raw=RawPayload(request.body, request.content_type, delivery.delivery_id),
        )
        result = _result(delivery.delivery_id, outcomes)
        if delivery.delivery_id:
            await self._config.record_delivery(
                org_id=org_id,
                source=request.source,
                delivery_id=delivery.delivery_id,
                status_code=result.status_code,
                response=result.body,
            )
        return result

    async def _ignored(self, org_id: str, source: str, delivery: Delivery) -> str | None:
        """Why the delivery must change nothing, or None when it is to be ingested."""
        if not delivery.incidents:
            return "; ".join(delivery.notes) or "the delivery describes no incident"
        account = delivery.changed_by
        if account is not None and await self._own_accounts.includes(org_id, source, account):
            return (
                f"changed by {account}, the account Fireline signs in to {source} as: "
                "Fireline's own change coming back"
            )
        return None


def _ignored_result(delivery_id: str | None, reason: str) -> WebhookResult:
    body: dict[str, Any] = {
        "deliveryId": delivery_id,
        "duplicate": False,
        "incidents": [],
        "ignored": reason,
    }
    return WebhookResult(200, body)


def _result(delivery_id: str | None, outcomes: list[IngestOutcome]) -> WebhookResult:
    created = any(outcome.status == "created" for outcome in outcomes)
    body = {
        "deliveryId": delivery_id,
        "duplicate": False,
        "incidents": [
            {
                "incidentId": outcome.incident_id,
                "sourceRef": outcome.source_ref,
                "status": outcome.status,
                "message": outcome.message,
            }
            for outcome in outcomes
        ],
    }
    return WebhookResult(201 if created else 200, body)
