"""/v1/connections: CRUD per org, roles, write-only credentials, the /test endpoint."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from core.secretbox import SecretBox
from store.db import Database
from tests.api.conftest import AuthHeaders
from tests.api.helpers import fireline_app, problems
from tests.fakes.sshd import OpenSshServer, require_sshd

URL = "/v1/connections"
PASSWORD = "pw-Hq2$unique-api-secret-4410"
PASSPHRASE = "phrase-Wd7%unique-api-8823"
MANAGERS = ("ORG_ADMIN", "SRE_LEAD")
READERS = ("ONCALL_ENGINEER", "ANALYST", "VIEWER")


def public_line() -> str:
    key = asyncssh.generate_private_key("ssh-ed25519")
    return " ".join(key.export_public_key("openssh").decode().split()[:2])


def private_text(passphrase: str | None = None) -> str:
    key = asyncssh.generate_private_key("ssh-ed25519")
    return key.export_private_key("pkcs8-pem", passphrase).decode()


def secret_fragments(*secrets: str) -> list[str]:
    """Each secret, and each long line of it (a key's base64 body)."""
    fragments = list(secrets)
    for secret in secrets:
        fragments += [line for line in secret.splitlines() if len(line) >= 16]
    return fragments


HOST_KEY = public_line()


def ssh_body(name: str = "db-1", **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "ssh",
        "host": "db-1.internal",
        "username": "deploy",
        "hostKey": HOST_KEY,
        "tags": ["payments"],
        "environment": "production",
        "credential": {"kind": "password", "secret": PASSWORD},
        **fields,
    }


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def app(db: Database, tmp_path: Path) -> FastAPI:
    return fireline_app(db, tmp_path)


@pytest.fixture
def box(app: FastAPI) -> SecretBox:
    secrets: SecretBox = app.state.fireline.secrets
    return secrets


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenSshServer]:
    require_sshd()
    with OpenSshServer(tmp_path_factory.mktemp("sshd")) as server:
        yield server


async def raw_rows(db: Database) -> list[dict[str, Any]]:
    async with db.read_session() as session:
        result = await session.execute(text("SELECT * FROM connections ORDER BY org_id, name"))
        return [dict(row) for row in result.mappings()]


async def create(
    client: httpx.AsyncClient, auth: AuthHeaders, body: dict[str, Any], org: str = "acme"
) -> dict[str, Any]:
    response = await client.post(URL, json=body, headers=auth(org, "ORG_ADMIN"))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# --- CRUD ---------------------------------------------------------------------------------


async def test_create_answers_the_view_in_camel_case_without_the_secret(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    response = await client.post(URL, json=ssh_body(), headers=auth("acme", "SRE_LEAD"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: v for k, v in body.items() if k not in ("createdAt", "updatedAt")} == {
        "name": "db-1",
        "kind": "ssh",
        "host": "db-1.internal",
        "port": 22,
        "username": "deploy",
        "tags": ["payments"],
        "environment": "production",
        "hostKey": HOST_KEY,
        "knownHosts": None,
        "database": None,
        "hasCredential": True,
        "credentialKind": "password",
    }
    assert PASSWORD not in response.text


async def test_every_role_of_the_org_lists_and_reads(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    created = await create(client, auth, ssh_body())
    await create(client, auth, {"name": "worker", "kind": "local"})
    await create(client, auth, {"name": "other-org", "kind": "local"}, org="globex")
    for role in (*MANAGERS, *READERS):
        listed = await client.get(URL, headers=auth("acme", role))
        assert listed.status_code == 200
        assert [item["name"] for item in listed.json()["items"]] == ["db-1", "worker"]
        one = await client.get(f"{URL}/db-1", headers=auth("acme", role))
        assert one.json() == created
        assert PASSWORD not in listed.text + one.text


@pytest.mark.parametrize("role", READERS)
async def test_readers_cannot_change_or_test_connections(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database, role: str
) -> None:
    await create(client, auth, {"name": "worker", "kind": "local"})
    before = await raw_rows(db)
    headers = auth("acme", role)
    answers = [
        await client.post(URL, json={"name": "new", "kind": "local"}, headers=headers),
        await client.put(f"{URL}/worker", json={"kind": "local", "tags": ["x"]}, headers=headers),
        await client.delete(f"{URL}/worker", headers=headers),
        await client.post(f"{URL}/worker/test", headers=headers),
    ]
    for answer in answers:
        assert answer.status_code == 403
        assert answer.json()["detail"] == "requires one of the roles: ORG_ADMIN, SRE_LEAD"
    assert await raw_rows(db) == before


async def test_no_token_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get(URL)).status_code == 401
    assert (await client.post(URL, json={"name": "x", "kind": "local"})).status_code == 401


async def test_another_orgs_connection_is_404_everywhere(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    await create(client, auth, ssh_body())
    before = await raw_rows(db)
    headers = auth("globex", "ORG_ADMIN")
    answers = [
        await client.get(f"{URL}/db-1", headers=headers),
        await client.put(f"{URL}/db-1", json={"kind": "local"}, headers=headers),
        await client.delete(f"{URL}/db-1", headers=headers),
        await client.post(f"{URL}/db-1/test", headers=headers),
    ]
    for answer in answers:
        assert answer.status_code == 404
        assert answer.json()["detail"] == (
            "no connection 'db-1' in this organisation; see GET /v1/connections"
        )
    assert (await client.get(URL, headers=headers)).json() == {"items": []}
    assert await raw_rows(db) == before


async def test_a_duplicate_name_is_409_and_changes_nothing(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    await create(client, auth, ssh_body())
    before = await raw_rows(db)
    response = await client.post(URL, json={"name": "db-1", "kind": "local"}, headers=auth())
    assert response.status_code == 409
    assert "connection 'db-1' already exists" in response.json()["detail"]
    assert await raw_rows(db) == before


async def test_delete_is_204_then_the_connection_is_gone(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    await create(client, auth, {"name": "worker", "kind": "local"})
    deleted = await client.delete(f"{URL}/worker", headers=auth("acme", "SRE_LEAD"))
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (await client.get(f"{URL}/worker", headers=auth())).status_code == 404
    assert (await client.delete(f"{URL}/worker", headers=auth())).status_code == 404
    assert await raw_rows(db) == []


# --- PUT and the credential ---------------------------------------------------------------


async def test_put_without_credential_keeps_it_and_null_clears_it(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database, box: SecretBox
) -> None:
    await create(client, auth, ssh_body())
    fields = {k: v for k, v in ssh_body().items() if k not in ("name", "credential")}

    kept = await client.put(f"{URL}/db-1", json={**fields, "host": "db-2.internal"}, headers=auth())
    assert kept.status_code == 200, kept.text
    assert (kept.json()["host"], kept.json()["hasCredential"]) == ("db-2.internal", True)
    [row] = await raw_rows(db)
    assert box.decrypt(row["credential_ciphertext"]) == PASSWORD

    cleared = await client.put(f"{URL}/db-1", json={**fields, "credential": None}, headers=auth())
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["hasCredential"], cleared.json()["credentialKind"]) == (False, "none")
    [row] = await raw_rows(db)
    assert row["credential_ciphertext"] is None


async def test_put_replaces_the_credential_and_snake_case_is_accepted(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database, box: SecretBox
) -> None:
    await create(client, auth, ssh_body())
    key = private_text(PASSPHRASE)
    body = {
        "kind": "ssh",
        "host": "db-1.internal",
        "username": "deploy",
        "host_key": HOST_KEY,
        "credential": {"kind": "private_key", "secret": key, "passphrase": PASSPHRASE},
    }
    response = await client.put(f"{URL}/db-1", json=body, headers=auth())
    assert response.status_code == 200, response.text
    assert response.json()["credentialKind"] == "private_key"
    assert response.json()["tags"] == []  # PUT replaces every field
    for fragment in secret_fragments(key, PASSPHRASE):
        assert fragment not in response.text
    [row] = await raw_rows(db)
    assert box.decrypt(row["credential_ciphertext"]) == key
    assert box.decrypt(row["credential_passphrase_ciphertext"]) == PASSPHRASE


async def test_put_on_an_unknown_name_is_404(client: httpx.AsyncClient, auth: AuthHeaders) -> None:
    response = await client.put(f"{URL}/nope", json={"kind": "local"}, headers=auth())
    assert response.status_code == 404


# --- refused bodies: clear errors, no echo of the secret, nothing stored -------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (ssh_body(credential={"secret": PASSWORD}), "body.credential.kind: Field required"),
        (
            ssh_body(credential={"kind": "token", "secret": PASSWORD}),
            "body.credential.kind: Input should be 'password' or 'private_key'",
        ),
        (
            ssh_body(credential={"kind": "password", "secret": PASSWORD, "extra": PASSWORD}),
            "body.credential.extra: Extra inputs are not permitted",
        ),
        (
            ssh_body(credential={"kind": "password", "secret": [PASSWORD]}),
            "body.credential.secret: Input should be a valid string",
        ),
        (ssh_body(hostKey=None), "host_key: an ssh connection needs the host's key"),
        (ssh_body(name="Bad Name"), "name: 1 to 63 characters"),
        (ssh_body(kind="telnet"), "body.kind: Input should be"),
        (ssh_body(port="twenty-two"), "body.port: Input should be a valid integer"),
        (ssh_body(password=PASSWORD), "body.password: Extra inputs are not permitted"),
        (
            ssh_body(credential={"kind": "private_key", "secret": PASSWORD}),
            "credential.secret: not a private key",
        ),
    ],
)
async def test_a_refused_body_is_422_never_echoes_the_secret_and_stores_nothing(
    client: httpx.AsyncClient,
    auth: AuthHeaders,
    db: Database,
    body: dict[str, Any],
    expected: str,
) -> None:
    response = await client.post(URL, json=body, headers=auth())
    assert response.status_code == 422, response.text
    assert expected in problems(response)
    assert PASSWORD not in response.text
    assert await raw_rows(db) == []


async def test_a_body_that_is_not_json_is_400(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    response = await client.post(
        URL,
        content=b'{"name": "x", "credential": {"secret": "' + PASSWORD.encode(),
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert problems(response).startswith("the request body is not valid JSON: ")
    assert PASSWORD not in response.text
    assert await raw_rows(db) == []


async def test_the_openapi_document_marks_secrets_write_only(app: FastAPI) -> None:
    credential = app.openapi()["components"]["schemas"]["CredentialIn"]["properties"]
    assert credential["secret"]["writeOnly"] is True
    assert credential["secret"]["format"] == "password"


# --- POST /{name}/test ---------------------------------------------------------------------


async def test_a_local_connection_tests_reachable(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    await create(client, auth, {"name": "worker", "kind": "local"})
    response = await client.post(f"{URL}/worker/test", headers=auth("acme", "SRE_LEAD"))
    assert response.status_code == 200
    assert response.json() == {
        "reachable": True,
        "hostKeyOk": None,
        "authenticated": None,
        "fingerprint": None,
        "error": None,
    }


async def test_a_closed_port_is_a_200_with_reachable_false(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    port = closed_port()
    await create(client, auth, ssh_body(host="127.0.0.1", port=port))
    response = await client.post(f"{URL}/db-1/test", headers=auth())
    assert response.status_code == 200
    body = response.json()
    assert (body["reachable"], body["hostKeyOk"], body["fingerprint"]) == (False, False, None)
    assert f"cannot connect to 127.0.0.1:{port}: connection refused" in body["error"]


async def test_an_unknown_connection_test_is_404(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    response = await client.post(f"{URL}/nope/test", headers=auth())
    assert response.status_code == 404


async def test_a_real_sshd_passes_the_test(
    client: httpx.AsyncClient, auth: AuthHeaders, sshd: OpenSshServer
) -> None:
    body = ssh_body(
        host=sshd.host,
        port=sshd.port,
        username=sshd.username,
        hostKey=sshd.host_public_key,
        credential={"kind": "private_key", "secret": sshd.client_private_key},
    )
    await create(client, auth, body)
    response = await client.post(f"{URL}/db-1/test", headers=auth())
    assert response.status_code == 200
    key = asyncssh.import_public_key(sshd.host_public_key)
    assert response.json() == {
        "reachable": True,
        "hostKeyOk": True,
        "authenticated": True,
        "fingerprint": f"ssh-ed25519 {key.get_fingerprint('sha256')}",
        "error": None,
    }


async def test_a_wrong_host_key_is_a_200_with_host_key_ok_false(
    client: httpx.AsyncClient, auth: AuthHeaders, sshd: OpenSshServer
) -> None:
    body = ssh_body(
        host=sshd.host,
        port=sshd.port,
        username=sshd.username,
        credential={"kind": "private_key", "secret": sshd.client_private_key},
    )
    await create(client, auth, body)  # HOST_KEY: not the server's
    response = await client.post(f"{URL}/db-1/test", headers=auth())
    assert response.status_code == 200
    result = response.json()
    assert (result["reachable"], result["hostKeyOk"], result["authenticated"]) == (
        True,
        False,
        False,
    )
    assert "does not match the connection's pinned host key" in result["error"]


async def test_no_secret_in_any_answer_log_record_or_stored_column(
    client: httpx.AsyncClient,
    auth: AuthHeaders,
    db: Database,
    box: SecretBox,
    sshd: OpenSshServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = private_text(PASSPHRASE)
    authorized = sshd.folder / "authorized_keys"
    public = asyncssh.import_private_key(key, PASSPHRASE).export_public_key().decode()
    authorized.write_text(authorized.read_text() + public)
    target = {
        "host": sshd.host,
        "port": sshd.port,
        "username": sshd.username,
        "hostKey": sshd.host_public_key,
    }
    credential = {"kind": "private_key", "secret": key, "passphrase": PASSPHRASE}
    # The last one is refused (a PUT body has no name): a 422 must not echo it either.
    answers = [
        await client.post(
            URL, json=ssh_body("by-key", **target, credential=credential), headers=auth()
        ),
        await client.post(URL, json=ssh_body("by-password", **target), headers=auth()),
        await client.post(f"{URL}/by-key/test", headers=auth()),
        await client.post(f"{URL}/by-password/test", headers=auth()),
        await client.get(URL, headers=auth()),
        await client.get(f"{URL}/by-key", headers=auth()),
        await client.put(f"{URL}/by-key", json=ssh_body(**target) | {"name": None}, headers=auth()),
    ]
    assert [a.status_code for a in answers] == [201, 201, 200, 200, 200, 200, 422]
    assert (answers[2].json()["authenticated"], answers[3].json()["authenticated"]) == (True, False)

    fragments = secret_fragments(key, PASSPHRASE, PASSWORD)
    everything_answered = "".join(answer.text for answer in answers)
    logged = caplog.text + "".join(repr(record.args) for record in caplog.records)
    assert any(r.name.startswith("asyncssh") for r in caplog.records), "no DEBUG capture"
    rows = await raw_rows(db)
    stored = " ".join(str(value) for row in rows for value in row.values())
    for fragment in fragments:
        assert fragment not in everything_answered
        assert fragment not in logged
        assert fragment not in stored
    by_key = next(row for row in rows if row["name"] == "by-key")
    assert box.decrypt(by_key["credential_ciphertext"]) == key


# --- db connections: the database field ------------------------------------------------------


def postgres_body(name: str = "pg", **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "db",
        "host": "pg.internal",
        "username": "app",
        "database": "payments",
        "credential": {"kind": "password", "secret": PASSWORD},
        **fields,
    }


async def test_a_db_connection_shows_its_database_and_put_changes_it(
    client: httpx.AsyncClient, auth: AuthHeaders, tmp_path: Path
) -> None:
    created = await create(client, auth, postgres_body())
    assert (created["port"], created["database"], created["hasCredential"]) == (
        5432,
        "payments",
        True,
    )
    sqlite_file = str(tmp_path / "flags.db")
    response = await client.put(
        f"{URL}/pg",
        json={"kind": "db", "database": sqlite_file, "credential": None},
        headers=auth(),
    )
    assert response.status_code == 200, response.text
    read = (await client.get(f"{URL}/pg", headers=auth("acme", "VIEWER"))).json()
    assert (read["host"], read["port"], read["database"], read["hasCredential"]) == (
        None,
        None,
        sqlite_file,
        False,
    )
    assert PASSWORD not in response.text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (postgres_body(database=None), "database: required: the PostgreSQL database name"),
        (postgres_body(username=None), "username: required for a PostgreSQL db connection"),
        (
            postgres_body(host=None, username=None, database="relative.db", credential=None),
            "database: with no host, the absolute path of a SQLite file",
        ),
        (
            postgres_body(host=None, username=None, database="/srv/a.db"),
            "credential: a SQLite db connection (no host) takes no credential",
        ),
        (ssh_body(database="payments"), "database: only used by db connections"),
        (postgres_body(database=["payments"]), "body.database: Input should be a valid string"),
    ],
)
async def test_a_bad_db_body_is_422_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient,
    auth: AuthHeaders,
    db: Database,
    body: dict[str, Any],
    expected: str,
) -> None:
    response = await client.post(URL, json=body, headers=auth())
    assert response.status_code == 422, response.text
    assert expected in problems(response)
    assert PASSWORD not in response.text
    assert await raw_rows(db) == []


async def test_another_orgs_db_connection_is_404(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    await create(client, auth, postgres_body(), org="other")
    response = await client.get(f"{URL}/pg", headers=auth())
    assert response.status_code == 404
    assert "payments" not in response.text


async def test_testing_a_sqlite_db_connection_opens_the_file(
    client: httpx.AsyncClient, auth: AuthHeaders, tmp_path: Path
) -> None:
    body = {"name": "gone", "kind": "db", "database": str(tmp_path / "gone.db")}
    await create(client, auth, body)
    response = await client.post(f"{URL}/gone/test", headers=auth())
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["reachable"], result["authenticated"], result["hostKeyOk"]) == (
        False,
        False,
        None,
    )
    assert "cannot open SQLite file" in result["error"]
