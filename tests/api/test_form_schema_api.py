"""/v1/incidents/form-schema: one form per org, ORG_ADMIN to change, every change kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from store.db import Database
from tests.api.conftest import AuthHeaders
from tests.api.helpers import fireline_app

URL = "/v1/incidents/form-schema"
FORMS = Path(__file__).resolve().parent.parent / "fixtures" / "forms"


@pytest.fixture
def app(db: Database, tmp_path: Path) -> FastAPI:
    return fireline_app(db, tmp_path)


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FORMS / f"{name}.json").read_text())
    return document


async def save(client: httpx.AsyncClient, auth: AuthHeaders, body: dict[str, Any]) -> Any:
    response = await client.post(URL, json=body, headers=auth("acme", "ORG_ADMIN"))
    assert response.status_code in (200, 201), response.text
    return response.json()


async def current(client: httpx.AsyncClient, auth: AuthHeaders, org: str = "acme") -> Any:
    return (await client.get(URL, headers=auth(org, "VIEWER"))).json()


@pytest.mark.parametrize("name", ["acme", "basic-jira", "advanced"])
async def test_the_documents_example_forms_are_accepted_verbatim(
    client: httpx.AsyncClient, auth: AuthHeaders, name: str
) -> None:
    sent = example(name)
    response = await client.post(URL, json=sent, headers=auth())
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["version"], body["name"], body["updated_by"]) == (1, sent["name"], "acme-user")
    assert [field["name"] for field in body["fields"]] == [f["name"] for f in sent["fields"]]
    assert await current(client, auth) == body
    assert "tenant_id" not in body  # the org is the token's, never the body's


async def test_saving_again_is_a_new_version_and_the_history_lists_every_change(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    await save(client, auth, example("basic-jira"))
    second = await client.post(URL, json=example("advanced"), headers=auth())
    assert (second.status_code, second.json()["version"]) == (200, 2)
    deleted = await client.delete(URL, headers=auth())
    assert deleted.status_code == 204

    missing = await client.get(URL, headers=auth())
    assert missing.status_code == 404
    assert "POST /v1/incidents/form-schema" in missing.json()["detail"]
    history = (await client.get(URL, params={"history": "true"}, headers=auth())).json()
    summary = [
        (v["version"], v["action"], v["name"], v["previous_version"], v["changed_by"])
        for v in history["versions"]
    ]
    assert summary == [
        (3, "deleted", "Advanced Incident Form", 2, "acme-user"),
        (2, "saved", "Advanced Incident Form", 1, "acme-user"),
        (1, "saved", "Basic Jira Integration", None, "acme-user"),
    ]
    assert history["versions"][0]["fields"] is None
    assert history["versions"][2]["fields"][0]["options"] == ["OPS", "SUPPORT"]
    assert (await client.post(URL, json=example("acme"), headers=auth())).status_code == 201


@pytest.mark.parametrize(
    ("field", "location", "message"),
    [
        ({"name": "Project", "label": "P", "type": "text"}, "name", "^[a-z][a-z0-9_]*$"),
        ({"name": "p", "label": "P", "type": "select"}, "options", "at least one option"),
        (
            {"name": "p", "label": "P", "type": "radio", "options": ["a", "a"]},
            "options",
            "must be unique",
        ),
        (
            {"name": "p", "label": "P", "type": "select", "options": ["a"], "default_value": "b"},
            "default_value",
            "must be one of a",
        ),
        (
            {"name": "n", "label": "N", "type": "number", "min_value": 5, "max_value": 1},
            "min_value",
            "min_value 5 is above max_value 1",
        ),
        (
            {"name": "n", "label": "N", "type": "number", "max_value": 10, "default_value": 11},
            "default_value",
            "must be at most 10",
        ),
        (
            {"name": "c", "label": "C", "type": "checkbox", "default_value": "yes"},
            "default_value",
            "true or false",
        ),
        (
            {"name": "d", "label": "D", "type": "date", "default_value": "31/01/2026"},
            "default_value",
            "YYYY-MM-DD",
        ),
        (
            {"name": "t", "label": "T", "type": "text", "max_length": 3, "default_value": "long"},
            "default_value",
            "at most 3",
        ),
        (
            {"name": "t", "label": "T", "type": "text", "options": ["a"]},
            "options",
            "does not apply to a text",
        ),
        ({"name": "t", "label": "T", "type": "slider"}, "type", "Input should be"),
        ({"name": "t", "label": "T", "type": "text", "colour": "red"}, "colour", "Extra inputs"),
    ],
)
async def test_a_bad_form_names_the_field_index_and_key_and_keeps_the_current_one(
    client: httpx.AsyncClient,
    auth: AuthHeaders,
    field: dict[str, Any],
    location: str,
    message: str,
) -> None:
    kept = await save(client, auth, example("basic-jira"))
    fields = [{"name": "first", "label": "First", "type": "text"}, field]
    response = await client.post(URL, json={"name": "Bad", "fields": fields}, headers=auth())
    assert response.status_code == 422, response.text
    [problem] = [p for p in response.json()["detail"] if p["loc"][:3] == ["body", "fields", 1]]
    assert problem["loc"] == ["body", "fields", 1, location]
    assert message in problem["msg"]
    assert await current(client, auth) == kept


async def test_duplicate_names_are_refused_at_the_second(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    fields = [{"name": "p", "label": "P", "type": "text"}] * 2
    response = await client.post(URL, json={"name": "Dup", "fields": fields}, headers=auth())
    assert response.json()["detail"] == [
        {
            "loc": ["body", "fields", 1, "name"],
            "msg": "'p' is used by an earlier field",
            "type": "value_error",
        }
    ]
    assert (await client.get(URL, headers=auth())).status_code == 404


async def test_only_org_admins_change_it_and_other_orgs_never_see_it(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    form = await save(client, auth, example("acme"))
    for role in ("SRE_LEAD", "ONCALL_ENGINEER", "ANALYST", "VIEWER"):
        refused = await client.post(URL, json=example("basic-jira"), headers=auth("acme", role))
        assert refused.status_code == 403
        assert (await client.delete(URL, headers=auth("acme", role))).status_code == 403
    assert await current(client, auth) == form
    assert (await client.get(URL, headers=auth("globex", "ORG_ADMIN"))).status_code == 404
    assert (await client.delete(URL, headers=auth("globex", "ORG_ADMIN"))).status_code == 404
    assert await current(client, auth) == form


async def test_the_json_schema_describes_the_enrichments(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    without = (await client.get(f"{URL}/json-schema", headers=auth())).json()
    assert (without["properties"], without["additionalProperties"]) == ({}, True)
    await save(client, auth, example("acme"))
    await save(
        client,
        auth,
        {
            "name": "More",
            "fields": [
                *example("acme")["fields"],
                {
                    "name": "users",
                    "label": "Users",
                    "type": "number",
                    "min_value": 0,
                    "max_value": 1e6,
                },
                {"name": "since", "label": "Since", "type": "date"},
            ],
        },
    )
    document = (await client.get(f"{URL}/json-schema", headers=auth("acme", "VIEWER"))).json()
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["required"] == ["target_project"]
    properties = document["properties"]
    assert properties["target_project"] == {
        "type": "string",
        "title": "Jira Project",
        "x-fireline-input": "select",
        "enum": ["OPS", "SUPPORT", "ENGINEERING", "INFRASTRUCTURE"],
        "default": "OPS",
        "description": "Target Jira project for ticket creation",
    }
    assert (properties["urgent"]["type"], properties["urgent"]["default"]) == ("boolean", False)
    assert properties["additional_context"]["maxLength"] == 1000
    assert (properties["users"]["minimum"], properties["users"]["maximum"]) == (0, 1e6)
    assert properties["since"]["format"] == "date"
