"""GET/PUT /v1/settings/list-columns: the defaults, an admin's choice kept per org and
alongside the execution mode, and refused bodies that change nothing."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from store.db import Database
from tests.api.conftest import AuthHeaders
from tests.api.helpers import fireline_app, problems

URL = "/v1/settings/list-columns"


@pytest.fixture
def app(db: Database, tmp_path: Path) -> FastAPI:
    return fireline_app(db, tmp_path)


async def test_an_org_that_never_chose_shows_the_ticket_project_and_priority(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    response = await client.get(URL, headers=auth("acme", "VIEWER"))
    assert response.json() == {"columns": ["ticket_id", "target_project", "priority"]}


async def test_an_admin_chooses_the_columns_for_their_org_only(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    await client.put(
        "/v1/settings/execution-mode", json={"mode": "auto", "auto_threshold": 0.9}, headers=auth()
    )
    chosen = {"columns": ["customer_tier", "ticket_id"]}

    response = await client.put(URL, json=chosen, headers=auth("acme", "ORG_ADMIN"))

    assert response.status_code == 200, response.text
    assert (await client.get(URL, headers=auth("acme", "VIEWER"))).json() == chosen
    assert (await client.get(URL, headers=auth("globex"))).json()["columns"][0] == "ticket_id"
    mode = await client.get("/v1/settings/execution-mode", headers=auth())
    assert mode.json()["auto_threshold"] == 0.9  # the other settings of the row are kept


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["ticket_id", "ticket_id"], "body.columns.1: 'ticket_id' is listed twice"),
        (["ok", "rm -rf"], "body.columns.1: 'rm -rf' is not an enrichment key"),
        ([f"c{i}" for i in range(13)], "body.columns: List should have at most 12 items"),
    ],
)
async def test_a_bad_list_is_refused_naming_the_column_and_nothing_changes(
    client: httpx.AsyncClient,
    auth: AuthHeaders,
    columns: list[str],
    expected: str,
) -> None:
    await client.put(URL, json={"columns": ["priority"]}, headers=auth())

    response = await client.put(URL, json={"columns": columns}, headers=auth())

    assert response.status_code == 422
    assert expected in problems(response)
    assert (await client.get(URL, headers=auth())).json() == {"columns": ["priority"]}


async def test_only_an_admin_changes_them(client: httpx.AsyncClient, auth: AuthHeaders) -> None:
    response = await client.put(URL, json={"columns": []}, headers=auth("acme", "SRE_LEAD"))

    assert response.status_code == 403
    assert (await client.get(URL, headers=auth())).json()["columns"][0] == "ticket_id"
