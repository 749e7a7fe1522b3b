"""ServiceNow records through the org's webhook URL on the real app: the incident they
become, its resolve, retries, and the two-way echoes that must store and start nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from fastapi import FastAPI
from sqlalchemy import select

from store.db import Database
from store.models import (
    EvidenceBundleModel,
    IncidentEventModel,
    IncidentModel,
    IncidentSourceModel,
    IngestPayloadModel,
    OutboxModel,
    WebhookDeliveryModel,
)
from tests.api.conftest import AuthHeaders
from tests.api.helpers import fireline_app
from tests.conftest import FIXTURES
from tests.store.helpers import count_rows

SECRET = "snow-webhook-secret-4f1a9c"
SYS_ID = "9d385017c611228701d22104cc95c371"
FORM = f"https://acme.service-now.com/nav_to.do?uri=incident.do?sys_id={SYS_ID}"
FIRELINE_ACCOUNT = "fireline.integration"
BEARER = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"}
STORED = (
    IncidentModel,
    IncidentEventModel,
    OutboxModel,
    IncidentSourceModel,
    IngestPayloadModel,
    EvidenceBundleModel,
    WebhookDeliveryModel,
)


def record(name: str = "incident-new.json", **changes: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES.parent / "servicenow" / name).read_text())
    return {**loaded, **changes}


@pytest.fixture
def app(db: Database, tmp_path: Path) -> FastAPI:
    providers = {
        "servicenow": {
            "type": "servicenow",
            "authentication": {
                "service_now_base_url": "https://acme.service-now.com",
                "username": FIRELINE_ACCOUNT,
                "password": "not-used-here",
            },
        },
        "jira": {
            "type": "jira",
            "authentication": {"url": "https://acme.atlassian.net", "username": "beth.anglin"},
        },
    }
    providers_file = tmp_path / "providers.yaml"
    providers_file.write_text(yaml.safe_dump(providers))
    return fireline_app(db, tmp_path, providers_file=providers_file)


@pytest.fixture
async def hook(client: httpx.AsyncClient, auth: AuthHeaders) -> str:
    """The path of acme's ServiceNow endpoint, authenticated by a bearer secret."""
    response = await client.put(
        "/v1/webhooks/servicenow/config",
        json={"auth": "bearer", "secret": SECRET},
        headers=auth("acme"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["url"].startswith("http")
    return urlsplit(response.json()["url"]).path


async def post(client: httpx.AsyncClient, hook: str, body: Any) -> httpx.Response:
    return await client.post(hook, content=json.dumps(body), headers=BEARER)


async def stored(db: Database) -> dict[str, int]:
    async with db.read_session() as session:
        return {model.__tablename__: await count_rows(session, model) for model in STORED}


async def incident(client: httpx.AsyncClient, auth: AuthHeaders, incident_id: str) -> Any:
    response = await client.get(f"/v1/incidents/{incident_id}", headers=auth("acme"))
    assert response.status_code == 200, response.text
    return response.json()


async def created(client: httpx.AsyncClient, hook: str) -> str:
    response = await post(client, hook, record())
    assert response.status_code == 201, response.text
    incident_id: str = response.json()["incidents"][0]["incidentId"]
    return incident_id


# ------------------------------------------------------------------------ the lifecycle


async def test_a_new_record_creates_an_incident_linked_to_its_ticket(
    client: httpx.AsyncClient, hook: str, auth: AuthHeaders, db: Database
) -> None:
    response = await post(client, hook, record())

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["deliveryId"], body["duplicate"]) == (f"{SYS_ID}:0", False)
    (item,) = body["incidents"]
    assert (item["status"], item["sourceRef"]) == ("created", SYS_ID)
    found = await incident(client, auth, item["incidentId"])
    assert found["title"] == "Checkout API returns 502 for all EU customers"
    assert (found["severity"], found["original_severity"], found["status"]) == (
        "SEV2",
        "2 - High",
        "OPEN",
    )
    assert (found["source_type"], found["source_ref"]) == ("SERVICENOW", SYS_ID)
    assert (found["service"], found["team"]) == ("db-prod-eu-01", "Database")
    assert found["started_at"].startswith("2026-03-10T08:12:07")
    assert found["custom_fields"]["ci_association"] == {"ci": "db-prod-eu-01"}
    assert found["custom_fields"]["number"] == "INC0010023"
    assert "servicenow:INC0010023" in found["tags"]
    assert [link["url"] for link in found["links"]] == [FORM]
    assert [(r["system"], r["id"], r["url"]) for r in found["external_refs"]] == [
        ("servicenow", "INC0010023", FORM)
    ]
    assert found["enrichments"] == {
        "ticket_type": "servicenow",
        "ticket_id": "INC0010023",
        "ticket_url": FORM,
    }
    assert [signal["summary"] for signal in found["signals"]] == [
        "INC0010023 New: Checkout API returns 502 for all EU customers "
        "(priority 2 - High, assigned to Database)"
    ]
    counts = await stored(db)
    assert (counts["incidents"], counts["outbox"], counts["webhook_deliveries"]) == (1, 1, 1)


async def test_the_resolved_record_resolves_the_same_incident(
    client: httpx.AsyncClient, hook: str, auth: AuthHeaders, db: Database
) -> None:
    incident_id = await created(client, hook)

    response = await post(client, hook, record("incident-resolved.json"))

    assert response.status_code == 200, response.text
    (item,) = response.json()["incidents"]
    assert (item["incidentId"], item["status"]) == (incident_id, "updated")
    found = await incident(client, auth, incident_id)
    assert found["status"] == "RESOLVED"
    assert found["resolved_at"].startswith("2026-03-10T09:47:30")
    async with db.read_session() as session:
        assert await count_rows(session, IncidentModel) == 1
        triggers = [row.trigger_event for row in await session.scalars(select(OutboxModel))]
    assert sorted(triggers) == ["created", "resolved", "status_changed"]


async def test_the_same_version_posted_again_gets_the_first_answer_and_changes_nothing(
    client: httpx.AsyncClient, hook: str, db: Database
) -> None:
    first = await post(client, hook, record())
    before = await stored(db)

    again = await post(client, hook, record())

    assert again.status_code == first.status_code == 201
    assert again.json() == {**first.json(), "duplicate": True}
    assert await stored(db) == before


async def test_a_new_version_that_changes_nothing_shown_adds_no_event(
    client: httpx.AsyncClient, hook: str, auth: AuthHeaders, db: Database
) -> None:
    incident_id = await created(client, hook)
    before = await stored(db)
    last_seq = (await incident(client, auth, incident_id))["last_seq"]
    # A work note: ServiceNow bumps the version and the update time, nothing else.
    work_note = record(
        sys_updated_on="2026-03-10 08:31:44", sys_mod_count="1", sys_updated_by="beth.anglin"
    )

    response = await post(client, hook, work_note)

    assert response.status_code == 200, response.text
    assert [item["status"] for item in response.json()["incidents"]] == ["unchanged"]
    assert (await incident(client, auth, incident_id))["last_seq"] == last_seq
    after = await stored(db)
    # Only the new delivery id is remembered: no event, no workflow, no payload, no bundle.
    assert after == {**before, "webhook_deliveries": before["webhook_deliveries"] + 1}


# ------------------------------------------------------------------------ echoes


async def test_a_ticket_fireline_opened_is_ignored_and_stores_nothing(
    client: httpx.AsyncClient, hook: str, db: Database
) -> None:
    before = await stored(db)

    response = await post(client, hook, record("incident-opened-by-fireline.json"))

    assert response.status_code == 200, response.text
    assert response.json()["incidents"] == []
    assert response.json()["ignored"] == (
        "ignored INC0010042: a ticket Fireline opened for its own incident"
    )
    assert await stored(db) == before


@pytest.mark.parametrize("account", [FIRELINE_ACCOUNT, "Fireline.Integration"])
async def test_fireline_own_change_coming_back_changes_and_starts_nothing(
    client: httpx.AsyncClient, hook: str, auth: AuthHeaders, db: Database, account: str
) -> None:
    incident_id = await created(client, hook)
    before = await stored(db)
    echo = record("incident-resolved.json", sys_updated_by=account)

    response = await post(client, hook, echo)

    assert response.status_code == 200, response.text
    assert response.json()["incidents"] == []
    assert response.json()["ignored"] == (
        f"changed by {account}, the account Fireline signs in to servicenow as: "
        "Fireline's own change coming back"
    )
    assert await stored(db) == before
    assert (await incident(client, auth, incident_id))["status"] == "OPEN"


async def test_a_record_fireline_account_created_is_not_an_incident(
    client: httpx.AsyncClient, hook: str, db: Database
) -> None:
    response = await post(client, hook, record(sys_updated_by=FIRELINE_ACCOUNT))

    assert response.status_code == 200, response.text
    assert "ignored" in response.json()
    assert all(count == 0 for count in (await stored(db)).values())


async def test_the_account_of_an_org_servicenow_connection_is_fireline_for_that_org_only(
    client: httpx.AsyncClient, hook: str, auth: AuthHeaders, db: Database
) -> None:
    incident_id = await created(client, hook)
    for org, account in (("acme", "snow.acme.bot"), ("globex", "snow.globex.bot")):
        connection = {
            "name": "snow-own",
            "kind": "servicenow",
            "host": f"{org}.service-now.com",
            "username": account,
            "credential": {"kind": "password", "secret": "not-used-here-7d1c"},
        }
        response = await client.post("/v1/connections", json=connection, headers=auth(org))
        assert response.status_code == 201, response.text
    before = await stored(db)

    own = await post(client, hook, record("incident-resolved.json", sys_updated_by="SNOW.acme.bot"))

    assert own.json()["ignored"].startswith("changed by SNOW.acme.bot, the account Fireline")
    assert await stored(db) == before
    # Another org's integration account is a person as far as acme is concerned.
    other = await post(
        client, hook, record("incident-resolved.json", sys_updated_by="snow.globex.bot")
    )
    assert "ignored" not in other.json()
    assert (await incident(client, auth, incident_id))["status"] == "RESOLVED"


async def test_the_account_of_another_connection_type_is_a_person_here(
    client: httpx.AsyncClient, hook: str, auth: AuthHeaders
) -> None:
    incident_id = await created(client, hook)

    # beth.anglin is the jira connection's account, not the servicenow one.
    response = await post(client, hook, record("incident-resolved.json"))

    assert "ignored" not in response.json()
    assert (await incident(client, auth, incident_id))["status"] == "RESOLVED"


# ------------------------------------------------------------------------ refusals, routes


async def test_a_record_without_sys_id_and_short_description_is_422_storing_nothing(
    client: httpx.AsyncClient, hook: str, db: Database
) -> None:
    body = {"result": {"number": "INC0010023", "state": "1"}}

    response = await post(client, hook, body)

    assert response.status_code == 422, response.text
    assert response.json()["detail"] == (
        "not a servicenow payload: result.sys_id: missing; result.short_description: missing"
    )
    assert all(count == 0 for count in (await stored(db)).values())


async def test_a_wrong_secret_is_401_storing_nothing(
    client: httpx.AsyncClient, hook: str, db: Database
) -> None:
    headers = {**BEARER, "Authorization": "Bearer not-the-secret"}

    response = await client.post(hook, content=json.dumps(record()), headers=headers)

    assert response.status_code == 401, response.text
    assert all(count == 0 for count in (await stored(db)).values())


async def test_a_table_api_answer_posted_with_a_fireline_token(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    headers = {**auth("acme", "ANALYST"), "Content-Type": "application/json"}
    body = (FIXTURES.parent / "servicenow" / "incident-table-api.json").read_bytes()

    response = await client.post("/v1/webhooks/servicenow", content=body, headers=headers)

    assert response.status_code == 201, response.text
    found = await incident(client, auth, response.json()["incidents"][0]["incidentId"])
    assert (found["severity"], found["status"], found["service"]) == (
        "SEV1",
        "INVESTIGATING",
        "pay-gw-use1-02",
    )
    assert found["enrichments"] == {"ticket_type": "servicenow", "ticket_id": "INC0010031"}
