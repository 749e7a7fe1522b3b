"""The body size limit (413): declared lengths, chunked bodies, the CSV upload's own limit;
in-process and through a real uvicorn server. A refused body never reaches a handler."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from store.db import Database
from tests.api.conftest import AuthHeaders
from tests.api.helpers import fireline_app, stored_row_counts
from tests.platform.harness import free_port

INGEST = "/v1/incidents/ingest"
UPLOAD = "/v1/incidents/upload-csv"
BODY_LIMIT, UPLOAD_LIMIT = 1000, 4000
CSV_HEADER = "sourceType,sourceRef,title,start\n"


@pytest.fixture
def app(db: Database, tmp_path: Path) -> FastAPI:
    return fireline_app(db, tmp_path, max_body_bytes=BODY_LIMIT, max_upload_bytes=UPLOAD_LIMIT)


def incident_json(description: str = "") -> bytes:
    body: dict[str, Any] = {
        "sourceType": "CUSTOM",
        "sourceRef": "big-1",
        "title": "Big body",
        "timeline": {"start": "2024-05-01T10:00:00Z"},
    }
    if description:
        body["description"] = description
    return json.dumps(body).encode()


class Chunks:
    """A streamed request body (no Content-Length) that counts what was pulled from it."""

    def __init__(self, data: bytes, size: int) -> None:
        self.parts = [data[i : i + size] for i in range(0, len(data), size)]
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            self.sent += 1
            yield part


def json_headers(auth: AuthHeaders) -> dict[str, str]:
    return {**auth("acme", "ANALYST"), "Content-Type": "application/json"}


# ------------------------------------------------------------------------------ in-process


async def test_a_declared_length_over_the_limit_is_refused_unread(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    body = incident_json("d" * 2000)
    response = await client.post(INGEST, content=body, headers=json_headers(auth))
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"request body is {len(body)} bytes; the limit is {BODY_LIMIT} bytes "
        "(FIRELINE_MAX_BODY_BYTES)"
    }
    assert await stored_row_counts(db) == (0, 0, 0)


async def test_a_body_at_the_limit_is_accepted(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    body = incident_json("d")
    body = incident_json("d" * (BODY_LIMIT - len(body) + 1))
    assert len(body) == BODY_LIMIT
    response = await client.post(INGEST, content=body, headers=json_headers(auth))
    assert response.status_code == 201, response.text


async def test_a_chunked_body_is_cut_off_once_over_the_limit(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    chunks = Chunks(incident_json("d" * 5000), size=250)
    response = await client.post(INGEST, content=chunks, headers=json_headers(auth))
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "request body is over the limit (1250 bytes received); the limit is 1000 bytes "
        "(FIRELINE_MAX_BODY_BYTES)"
    )
    # Reading stopped at the first chunk past the limit, and the handler stored nothing.
    assert chunks.sent == 5 < len(chunks.parts)
    assert await stored_row_counts(db) == (0, 0, 0)


async def test_a_chunked_body_under_the_limit_is_accepted(
    client: httpx.AsyncClient, auth: AuthHeaders
) -> None:
    chunks = Chunks(incident_json("small"), size=16)
    response = await client.post(INGEST, content=chunks, headers=json_headers(auth))
    assert response.status_code == 201, response.text
    assert chunks.sent == len(chunks.parts)


async def test_the_limit_applies_to_other_json_routes_too(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    body = {"title": "t", "severity": "SEV1", "description": "d" * 1500}
    response = await client.post("/v1/incidents", json=body, headers=auth())
    assert response.status_code == 413
    assert await stored_row_counts(db) == (0, 0, 0)


def csv_of_size(size: int) -> bytes:
    row = "CUSTOM,ref-{n:05d},Upload row,2024-05-01T10:00:00Z\n"
    text, n = CSV_HEADER, 0
    while len(text) + len(row.format(n=n)) <= size:
        text += row.format(n=n)
        n += 1
    return text.encode()


async def test_the_csv_upload_has_its_own_larger_limit(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    data = csv_of_size(3000)  # over the JSON limit, under the upload limit with the envelope
    assert len(data) > BODY_LIMIT
    files = {"file": ("incidents.csv", data, "text/csv")}
    response = await client.post(UPLOAD, files=files, headers=auth("acme", "ANALYST"))
    assert response.status_code == 200, response.text
    rows = data.count(b"\n") - 1
    assert response.json()["created"] == rows
    assert (await stored_row_counts(db))[0] == rows


async def test_a_csv_upload_over_its_limit_is_413_naming_its_setting(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    files = {"file": ("incidents.csv", csv_of_size(5000), "text/csv")}
    response = await client.post(UPLOAD, files=files, headers=auth("acme", "ANALYST"))
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert f"the limit is {UPLOAD_LIMIT} bytes (FIRELINE_MAX_UPLOAD_BYTES)" in detail
    assert await stored_row_counts(db) == (0, 0, 0)


async def test_a_chunked_csv_upload_over_its_limit_is_413(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    request = httpx.Request(
        "POST", "http://x", files={"file": ("incidents.csv", csv_of_size(6000), "text/csv")}
    )
    envelope = request.read()
    chunks = Chunks(envelope, size=500)
    headers = {
        **auth("acme", "ANALYST"),
        "Content-Type": request.headers["Content-Type"],
    }
    response = await client.post(UPLOAD, content=chunks, headers=headers)
    assert response.status_code == 413
    assert "FIRELINE_MAX_UPLOAD_BYTES" in response.json()["detail"]
    assert chunks.sent < len(chunks.parts)
    assert await stored_row_counts(db) == (0, 0, 0)


# ---------------------------------------------------------------------------- real server


@pytest.fixture
async def server_url(app: FastAPI) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                await serving  # raises why it stopped
                raise RuntimeError("uvicorn exited before it started")
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def test_uvicorn_refuses_a_declared_length_over_the_limit(
    server_url: str, auth: AuthHeaders, db: Database
) -> None:
    body = incident_json("d" * 3000)
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        response = await http.post(INGEST, content=body, headers=json_headers(auth))
        assert response.status_code == 413
        assert "FIRELINE_MAX_BODY_BYTES" in response.json()["detail"]
    assert await stored_row_counts(db) == (0, 0, 0)


async def test_uvicorn_refuses_a_chunked_body_over_the_limit(
    server_url: str, auth: AuthHeaders, db: Database
) -> None:
    chunks = Chunks(incident_json("d" * 3000), size=400)
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        response = await http.post(INGEST, content=chunks, headers=json_headers(auth))
        assert response.status_code == 413
        assert "request body is over the limit" in response.json()["detail"]
    assert await stored_row_counts(db) == (0, 0, 0)


async def test_uvicorn_accepts_a_chunked_body_under_the_limit(
    server_url: str, auth: AuthHeaders, db: Database
) -> None:
    chunks = Chunks(incident_json("fits"), size=40)
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as http:
        response = await http.post(INGEST, content=chunks, headers=json_headers(auth))
    assert response.status_code == 201, response.text
    assert (await stored_row_counts(db))[0] == 1
