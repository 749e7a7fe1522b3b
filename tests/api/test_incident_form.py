"""POST /v1/incidents checks enrichments against the org's form; ingestion is not held to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from store.db import Database
from tests.api.conftest import AuthHeaders
from tests.api.helpers import fireline_app, stored_row_counts

FORM = {
    "name": "On-call form",
    "fields": [
        {
            "name": "target_project",
            "label": "Jira Project",
            "type": "select",
            "required": True,
            "options": ["OPS", "SUPPORT"],
            "default_value": "OPS",
        },
        {
            "name": "ticketing_system",
            "label": "Ticketing",
            "type": "radio",
            "required": True,
            "options": ["jira", "servicenow"],
        },
        {"name": "urgent", "label": "Urgent", "type": "checkbox", "default_value": False},
        {"name": "context", "label": "Context", "type": "textarea", "max_length": 10},
        {"name": "users", "label": "Users hit", "type": "number", "min_value": 0, "max_value": 100},
        {"name": "since", "label": "Since", "type": "date"},
    ],
}


@pytest.fixture
def app(db: Database, tmp_path: Path) -> FastAPI:
    return fireline_app(db, tmp_path)


@pytest.fixture
async def with_form(client: httpx.AsyncClient, auth: AuthHeaders) -> None:
    response = await client.post("/v1/incidents/form-schema", json=FORM, headers=auth())
    assert response.status_code == 201, response.text


async def create(
    client: httpx.AsyncClient, auth: AuthHeaders, enrichments: dict[str, Any], org: str = "acme"
) -> httpx.Response:
    body = {"title": "Checkout 5xx", "severity": "SEV2", "enrichments": enrichments}
    return await client.post("/v1/incidents", json=body, headers=auth(org, "ONCALL_ENGINEER"))


@pytest.mark.usefixtures("with_form")
async def test_defaults_fill_what_was_left_out_and_unknown_keys_stay(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    response = await create(
        client, auth, {"ticketing_system": "servicenow", "users": 12.5, "from_workflow": "x"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["enrichments"] == {
        "target_project": "OPS",
        "ticketing_system": "servicenow",
        "urgent": False,
        "users": 12.5,
        "from_workflow": "x",
    }


@pytest.mark.usefixtures("with_form")
@pytest.mark.parametrize(
    ("enrichments", "field", "message"),
    [
        ({}, "ticketing_system", "'Ticketing' is required"),
        ({"ticketing_system": ""}, "ticketing_system", "'Ticketing' is required"),
        ({"ticketing_system": "linear"}, "ticketing_system", "must be one of jira, servicenow"),
        ({"ticketing_system": "jira", "target_project": "ENG"}, "target_project", "one of OPS"),
        ({"ticketing_system": "jira", "urgent": "yes"}, "urgent", "must be true or false"),
        ({"ticketing_system": "jira", "context": "x" * 11}, "context", "at most 10 characters"),
        ({"ticketing_system": "jira", "users": 101}, "users", "must be at most 100"),
        ({"ticketing_system": "jira", "users": -1}, "users", "must be at least 0"),
        ({"ticketing_system": "jira", "users": True}, "users", "must be a number"),
        ({"ticketing_system": "jira", "since": "2026-02-30"}, "since", "is not a date"),
        ({"ticketing_system": "jira", "since": "yesterday"}, "since", "YYYY-MM-DD"),
    ],
)
async def test_each_bad_value_is_a_422_naming_the_field_and_nothing_is_written(
    client: httpx.AsyncClient,
    auth: AuthHeaders,
    db: Database,
    enrichments: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = await create(client, auth, enrichments)
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "enrichments", field]
    assert message in problem["msg"]
    assert await stored_row_counts(db) == (0, 0, 0)


@pytest.mark.usefixtures("with_form")
async def test_every_bad_field_is_named_at_once(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    response = await create(client, auth, {"urgent": 1, "users": "many"})
    locations = [problem["loc"][-1] for problem in response.json()["detail"]]
    assert locations == ["ticketing_system", "urgent", "users"]


@pytest.mark.usefixtures("with_form")
async def test_another_org_and_ingestion_are_not_held_to_the_form(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    other = await create(client, auth, {"target_project": "anything"}, org="globex")
    assert other.status_code == 201, other.text
    ingested = await client.post(
        "/v1/incidents/ingest",
        json={
            "sourceType": "CUSTOM",
            "sourceRef": "r-1",
            "title": "From a monitor",
            "timeline": {"start": "2026-12-01T10:00:00Z"},
        },
        headers=auth("acme", "ANALYST"),
    )
    assert ingested.status_code == 201, ingested.text


async def test_without_a_form_anything_goes_and_after_a_delete_again(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    assert (await create(client, auth, {"target_project": "whatever"})).status_code == 201
    await client.post("/v1/incidents/form-schema", json=FORM, headers=auth())
    assert (await create(client, auth, {"target_project": "whatever"})).status_code == 422
    await client.delete("/v1/incidents/form-schema", headers=auth())
    assert (await create(client, auth, {"target_project": "whatever"})).status_code == 201
