"""GET/PUT /v1/settings/execution-mode: defaults, roles, per-org values, refused bodies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from store.db import Database
from tests.api.conftest import AuthHeaders
from tests.api.helpers import fireline_app, problems

URL = "/v1/settings/execution-mode"


@pytest.fixture
def app(db: Database, tmp_path: Path) -> FastAPI:
    return fireline_app(db, tmp_path)


async def current(client: httpx.AsyncClient, auth: AuthHeaders, org: str = "acme") -> Any:
    response = await client.get(URL, headers=auth(org, "VIEWER"))
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_org_that_never_chose_reads_hil_and_0_8(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    assert await current(client, auth) == {
        "mode": "hil",
        "auto_threshold": 0.8,
        "updated_at": None,
    }


async def test_an_admin_sets_the_mode_and_every_role_of_the_org_reads_it(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    response = await client.put(
        URL, json={"mode": "auto", "auto_threshold": 0.9}, headers=auth("acme", "ORG_ADMIN")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["mode"], body["auto_threshold"]) == ("auto", 0.9)
    assert body["updated_at"] is not None
    for role in ("VIEWER", "ANALYST", "ONCALL_ENGINEER", "SRE_LEAD", "ORG_ADMIN"):
        read = await client.get(URL, headers=auth("acme", role))
        assert read.json() == body
    assert (await current(client, auth, "globex"))["mode"] == "hil"


async def test_without_a_threshold_the_current_one_is_kept(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    await client.put(URL, json={"mode": "auto", "auto_threshold": 0.55}, headers=auth())
    response = await client.put(URL, json={"mode": "hil"}, headers=auth())
    assert response.status_code == 200
    assert (response.json()["mode"], response.json()["auto_threshold"]) == ("hil", 0.55)


async def test_integer_bounds_are_numbers_too(client: httpx.AsyncClient, auth: AuthHeaders) -> None:
    response = await client.put(URL, json={"mode": "auto", "auto_threshold": 1}, headers=auth())
    assert response.status_code == 200, response.text
    assert response.json()["auto_threshold"] == 1.0


@pytest.mark.parametrize("role", ["SRE_LEAD", "ONCALL_ENGINEER", "ANALYST", "VIEWER"])
async def test_only_an_org_admin_may_change_it(
    client: httpx.AsyncClient, auth: AuthHeaders, role: str
) -> None:
    response = await client.put(URL, json={"mode": "auto"}, headers=auth("acme", role))
    assert response.status_code == 403
    assert response.json()["detail"] == "requires one of the roles: ORG_ADMIN"
    assert (await current(client, auth))["updated_at"] is None


async def test_no_token_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get(URL)).status_code == 401
    assert (await client.put(URL, json={"mode": "auto"})).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mode": "manual"}, "mode"),
        ({"mode": "AUTO"}, "mode"),
        ({"auto_threshold": 0.5}, "mode"),
        ({"mode": "auto", "auto_threshold": 1.5}, "auto_threshold"),
        ({"mode": "auto", "auto_threshold": -0.1}, "auto_threshold"),
        ({"mode": "auto", "auto_threshold": "0.5"}, "auto_threshold"),
        ({"mode": "auto", "auto_threshold": True}, "auto_threshold"),
        ({"mode": "auto", "threshold": 0.5}, "threshold"),
    ],
)
async def test_bad_values_are_422_and_change_nothing(
    client: httpx.AsyncClient, auth: AuthHeaders, body: dict[str, Any], field: str
) -> None:
    await client.put(URL, json={"mode": "auto", "auto_threshold": 0.7}, headers=auth())
    before = await current(client, auth)

    response = await client.put(URL, json=body, headers=auth())

    assert response.status_code == 422, response.text
    assert problems(response).startswith(f"body.{field}: ")
    assert await current(client, auth) == before


async def test_nan_is_refused(client: httpx.AsyncClient, auth: AuthHeaders) -> None:
    # Python's json module writes NaN; a strict client would not, but the API must refuse it.
    response = await client.put(
        URL,
        content=b'{"mode": "auto", "auto_threshold": NaN}',
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert problems(response) == "body.auto_threshold: Input should be a finite number"
    assert (await current(client, auth))["updated_at"] is None
