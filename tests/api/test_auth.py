"""401 for missing or bad tokens, 403 naming the roles a route needs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import jwt
import pytest
import typer
from typer.testing import CliRunner

from api.auth import Principal, decode_token, issue_token
from cli.main import app
from cli.tokens import parse_roles
from core.ids import utcnow
from store.db import Database
from tests.api.conftest import JWT_SECRET, AuthHeaders
from tests.api.helpers import create, fireline_app


def test_a_token_round_trips() -> None:
    token = issue_token(JWT_SECRET, org="acme", roles=["SRE_LEAD"], sub="alice")
    assert decode_token(JWT_SECRET, token) == Principal("alice", "acme", frozenset({"SRE_LEAD"}))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "missing bearer token"),
        ({"Authorization": "Basic YWxpY2U6c2VjcmV0"}, "missing bearer token"),
        (_bearer("not.a.jwt"), "invalid token"),
        (
            _bearer(issue_token("another-secret-of-enough-length!!", org="a", roles=[], sub="x")),
            "invalid token: Signature verification failed",
        ),
        (
            _bearer(
                issue_token(JWT_SECRET, org="acme", roles=["ORG_ADMIN"], sub="x", ttl_seconds=-5)
            ),
            "token has expired",
        ),
        (
            _bearer(
                jwt.encode(
                    {
                        "sub": "x",
                        "roles": ["ORG_ADMIN"],
                        "iat": utcnow(),
                        "exp": utcnow() + timedelta(minutes=5),
                    },
                    JWT_SECRET,
                )
            ),
            "claim 'org'",
        ),
    ],
)
async def test_unauthenticated_requests_get_401(
    client: httpx.AsyncClient, headers: dict[str, str], detail: str
) -> None:
    response = await client.get("/v1/incidents", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert detail in response.json()["detail"]


async def test_viewer_can_read_but_not_create(client: httpx.AsyncClient, auth: AuthHeaders) -> None:
    response = await client.post(
        "/v1/incidents", json={"title": "x", "severity": "SEV3"}, headers=auth("acme", "VIEWER")
    )
    assert response.status_code == 403
    assert response.json() == {
        "detail": "requires one of the roles: ORG_ADMIN, SRE_LEAD, ONCALL_ENGINEER, ANALYST"
    }
    assert (await client.get("/v1/incidents", headers=auth("acme", "VIEWER"))).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "role", "needed"),
    [
        ("severity", {"severity": "SEV1"}, "ONCALL_ENGINEER", "ORG_ADMIN, SRE_LEAD"),
        ("status", {"status": "INVESTIGATING"}, "ANALYST", "ORG_ADMIN, SRE_LEAD, ONCALL_ENGINEER"),
    ],
)
async def test_changes_need_their_roles(
    client: httpx.AsyncClient,
    auth: AuthHeaders,
    path: str,
    body: dict[str, str],
    role: str,
    needed: str,
) -> None:
    incident = await create(client, auth())
    response = await client.post(
        f"/v1/incidents/{incident['id']}/{path}", json=body, headers=auth("acme", role)
    )
    assert response.status_code == 403
    assert response.json()["detail"] == f"requires one of the roles: {needed}"
    timeline = await client.get(f"/v1/incidents/{incident['id']}/timeline", headers=auth())
    assert len(timeline.json()["events"]) == 1


@pytest.mark.parametrize(
    ("path", "body", "role"),
    [
        ("severity", {"severity": "SEV1"}, "SRE_LEAD"),
        ("status", {"status": "INVESTIGATING"}, "ONCALL_ENGINEER"),
        ("status", {"status": "INVESTIGATING"}, "ORG_ADMIN"),
    ],
)
async def test_the_listed_roles_may_change(
    client: httpx.AsyncClient, auth: AuthHeaders, path: str, body: dict[str, str], role: str
) -> None:
    incident = await create(client, auth("acme", "ANALYST"))
    response = await client.post(
        f"/v1/incidents/{incident['id']}/{path}", json=body, headers=auth("acme", role)
    )
    assert response.status_code == 200, response.text


def test_the_token_command_signs_with_the_configured_secret() -> None:
    env = {"FIRELINE_ENVIRONMENT": "development", "FIRELINE_JWT_SECRET": JWT_SECRET}
    outcome = CliRunner().invoke(
        app, ["token", "--org", "acme", "--role", "sre_lead", "--role", "VIEWER"], env=env
    )
    assert outcome.exit_code == 0, outcome.output
    principal = decode_token(JWT_SECRET, outcome.stdout.strip())
    assert principal == Principal("cli-user", "acme", frozenset({"SRE_LEAD", "VIEWER"}))


def test_the_token_command_rejects_unknown_roles() -> None:
    env = {"FIRELINE_ENVIRONMENT": "development", "FIRELINE_JWT_SECRET": JWT_SECRET}
    outcome = CliRunner().invoke(app, ["token", "--org", "acme", "--role", "ADMIN"], env=env)
    assert outcome.exit_code == 2
    assert "unknown role(s): ADMIN" in outcome.output
    with pytest.raises(typer.BadParameter) as raised:
        parse_roles(["ADMIN", "sre_lead", "root"])
    assert raised.value.message == (
        "unknown role(s): ADMIN, root; choose from "
        "ORG_ADMIN, SRE_LEAD, ONCALL_ENGINEER, ANALYST, VIEWER"
    )


PREVIOUS_SECRET = "the-secret-before-the-rotation-0123456789"


async def test_after_a_rotation_tokens_signed_with_a_previous_secret_still_work(
    db: Database, tmp_path: Path
) -> None:
    app = fireline_app(db, tmp_path, jwt_previous_secrets=[PREVIOUS_SECRET])
    old = issue_token(PREVIOUS_SECRET, org="acme", roles=["VIEWER"], sub="script")
    unknown = issue_token("never-one-of-ours-0123456789abcdef", org="acme", roles=[], sub="x")
    expired_old = jwt.encode(
        {
            "sub": "s",
            "org": "acme",
            "roles": [],
            "iat": utcnow() - timedelta(hours=2),
            "exp": utcnow() - timedelta(hours=1),
        },
        PREVIOUS_SECRET,
        algorithm="HS256",
    )

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://fireline.test"
    ) as client:
        accepted = await client.get("/v1/incidents", headers=_bearer(old))
        refused = await client.get("/v1/incidents", headers=_bearer(unknown))
        expired = await client.get("/v1/incidents", headers=_bearer(expired_old))

    assert accepted.status_code == 200
    assert refused.status_code == 401
    assert "Signature verification failed" in refused.json()["detail"]
    assert (expired.status_code, expired.json()["detail"]) == (401, "token has expired")
