"""POST /v1/incidents/upload-csv on the real app: per-row results, bad rows never stop good
ones, whole-file problems store nothing, and a 10 000-row file streamed from disk."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ingest.csv_rows import COLUMNS
from store.db import Database
from store.models import IncidentSourceModel
from tests.api.conftest import AuthHeaders
from tests.api.helpers import fireline_app, stored_row_counts
from tests.store.helpers import count_rows

UPLOAD = "/v1/incidents/upload-csv"
START = "2024-05-01T10:00:00Z"
HEADER = "sourceType,sourceRef,title,start,end,resolvedAt,severity,windowMinutesBefore"


@pytest.fixture
def app(db: Database, tmp_path: Path) -> FastAPI:
    return fireline_app(db, tmp_path)


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], data: bytes | str
) -> httpx.Response:
    content = data.encode() if isinstance(data, str) else data
    files = {"file": ("incidents.csv", content, "text/csv")}
    return await client.post(UPLOAD, files=files, headers=headers)


async def incident_count(db: Database) -> int:
    return (await stored_row_counts(db))[0]


async def source_count(db: Database) -> int:
    async with db.read_session() as session:
        return await count_rows(session, IncidentSourceModel)


def summary(body: dict[str, Any]) -> dict[str, int]:
    return {key: body[key] for key in ("total", "created", "updated", "unchanged", "errors")}


async def test_good_rows_are_imported_and_bad_rows_reported_with_every_error(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    csv = (
        f"{HEADER}\n"
        f"CUSTOM,good-1,Disk full,{START},,,high,\n"
        f"NAGIOS,bad-1,,2024-05-01T10:00:00,,,urgent,0\n"
        f"PAGERDUTY,good-2,Checkout 5xx,{START},,,,30\n"
        f"CUSTOM,bad-2,Ends early,{START},2024-05-01T09:00:00Z,,,\n"
        f"CUSTOM,good-3,Resolved already,{START},,2024-05-01T12:00:00Z,low,\n"
    )
    response = await upload(client, auth("acme", "ANALYST"), csv)
    assert response.status_code == 200, response.text
    body = response.json()
    assert summary(body) == {"total": 5, "created": 3, "updated": 0, "unchanged": 0, "errors": 2}
    rows = body["rows"]
    assert [(row["row"], row["status"], row["sourceRef"]) for row in rows] == [
        (1, "created", "good-1"),
        (2, "error", "bad-1"),
        (3, "created", "good-2"),
        (4, "error", "bad-2"),
        (5, "created", "good-3"),
    ]
    assert {(e["field"], e["message"]) for e in rows[1]["errors"]} == {
        (
            "sourceType",
            "Input should be 'SCENARIO', 'GOOGLE_CLOUD', 'PAGERDUTY', 'DATADOG', "
            "'NEW_RELIC', 'CUSTOM', 'PROMETHEUS', 'GRAFANA', 'ZABBIX' or 'SERVICENOW'",
        ),
        ("title", "Field required"),
        ("start", "Input should have timezone info"),
        ("severity", "Input should be 'critical', 'high', 'medium', 'low' or 'info'"),
        ("windowMinutesBefore", "Input should be greater than or equal to 1"),
    }
    assert rows[3]["errors"] == [
        {"field": "end", "message": "end (2024-05-01T09:00:00+00:00) is before start"}
    ]
    assert "incidentId" not in rows[1]
    assert await incident_count(db) == 3

    good = await client.get(f"/v1/incidents/{rows[4]['incidentId']}", headers=auth())
    assert good.json()["status"] == "RESOLVED"
    assert good.json()["title"] == "Resolved already"


async def test_a_repeated_ref_in_one_file_never_makes_a_second_incident(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    csv = (
        f"{HEADER}\n"
        f"CUSTOM,dup,Disk full,{START},,,,\n"
        f"CUSTOM,dup,Disk full,{START},,,,\n"
        f"CUSTOM,dup,Disk full,{START},,2024-05-01T11:00:00Z,,\n"
    )
    response = await upload(client, auth("acme", "ANALYST"), csv)
    body = response.json()
    assert [row["status"] for row in body["rows"]] == ["created", "unchanged", "updated"]
    assert len({row["incidentId"] for row in body["rows"]}) == 1
    assert await incident_count(db) == 1


async def test_a_repeated_ref_across_chunks_is_the_same_incident(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    lines = [f"CUSTOM,ref-{n},Row {n},{START},,,," for n in range(250)]
    lines.append(f"CUSTOM,ref-3,Row 3,{START},,2024-05-01T11:00:00Z,,")
    response = await upload(client, auth("acme", "ANALYST"), "\n".join([HEADER, *lines]) + "\n")
    body = response.json()
    assert summary(body) == {
        "total": 251,
        "created": 250,
        "updated": 1,
        "unchanged": 0,
        "errors": 0,
    }
    assert body["rows"][-1]["incidentId"] == body["rows"][3]["incidentId"]
    assert await incident_count(db) == 250


async def test_a_second_upload_of_the_same_file_changes_nothing(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    csv = f"{HEADER}\nCUSTOM,a,A,{START},,,,\nCUSTOM,b,B,{START},,,,\n"
    await upload(client, auth("acme", "ANALYST"), csv)
    counts = await stored_row_counts(db)
    again = (await upload(client, auth("acme", "ANALYST"), csv)).json()
    assert summary(again) == {"total": 2, "created": 0, "updated": 0, "unchanged": 2, "errors": 0}
    assert await stored_row_counts(db) == counts


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("sourceType,sourceRef,title,start,owner", "unknown column(s): 'owner'"),
        ("sourceType,title", "missing required column(s): sourceRef, start"),
    ],
)
async def test_a_wrong_header_is_400_listing_the_columns_and_stores_nothing(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database, header: str, expected: str
) -> None:
    response = await upload(client, auth("acme", "ANALYST"), f"{header}\nCUSTOM,r1,t,{START},x\n")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert expected in detail
    assert f"Known columns: {', '.join(COLUMNS)}" in detail
    assert await stored_row_counts(db) == (0, 0, 0)
    assert await source_count(db) == 0


async def test_a_file_that_is_not_utf8_is_400_naming_the_row_and_stores_nothing(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    data = (
        f"{HEADER}\nCUSTOM,r1,Fine,{START},,,,\n".encode()
        + f"CUSTOM,r2,Caf\xe9,{START},,,,\n".encode("latin-1")
        + f"CUSTOM,r3,Fine,{START},,,,\n".encode()
    )
    response = await upload(client, auth("acme", "ANALYST"), data)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("row 2 cannot be read: it is not UTF-8")
    # Row 1 is valid, but the file is checked whole before any row is imported.
    assert await stored_row_counts(db) == (0, 0, 0)


async def test_an_empty_file_is_400_and_a_header_only_file_imports_nothing(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    empty = await upload(client, auth("acme", "ANALYST"), b"")
    assert empty.status_code == 400
    assert "the file is empty" in empty.json()["detail"]
    header_only = await upload(client, auth("acme", "ANALYST"), f"\ufeff{HEADER}\r\n")
    assert header_only.status_code == 200
    assert header_only.json() == {
        "total": 0,
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "errors": 0,
        "rows": [],
    }
    assert await stored_row_counts(db) == (0, 0, 0)


async def test_a_body_that_is_not_multipart_is_415(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    response = await client.post(
        UPLOAD,
        content=f"{HEADER}\nCUSTOM,r1,t,{START},,,,\n",
        headers={**auth("acme", "ANALYST"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 415
    assert "curl -F file=@incidents.csv" in response.json()["detail"]
    assert await stored_row_counts(db) == (0, 0, 0)


@pytest.mark.parametrize(
    ("files", "data"),
    [
        ({"upload": ("incidents.csv", b"sourceType\n", "text/csv")}, None),
        (None, {"file": "sourceType,sourceRef,title,start"}),
    ],
    ids=["file-in-another-field", "text-instead-of-a-file"],
)
async def test_a_form_without_a_file_field_is_400(
    client: httpx.AsyncClient,
    auth: AuthHeaders,
    files: dict[str, Any] | None,
    data: dict[str, str] | None,
) -> None:
    # httpx only sends multipart when there are files; force it for the text-only case.
    response = await client.post(
        UPLOAD,
        files=files or {"other": ("x.txt", b"x", "text/plain")},
        data=data,
        headers=auth("acme", "ANALYST"),
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("no file in the form field 'file'")


async def test_viewers_cannot_upload(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database
) -> None:
    response = await upload(client, auth("acme", "VIEWER"), f"{HEADER}\nCUSTOM,r1,t,{START},,,,\n")
    assert response.status_code == 403
    assert await stored_row_counts(db) == (0, 0, 0)


async def test_an_upload_over_the_rate_limit_is_429_and_stores_nothing(
    db: Database, tmp_path: Path, auth: AuthHeaders
) -> None:
    app = fireline_app(db, tmp_path, ingest_rate=0.01, ingest_burst=1)
    csv = f"{HEADER}\nCUSTOM,r1,t,{START},,,,\n"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fireline.test") as http:
        assert (await upload(http, auth("acme", "ANALYST"), csv)).status_code == 200
        counts = await stored_row_counts(db)
        refused = await upload(http, auth("acme", "ANALYST"), csv.replace("r1", "r2"))
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "100"
        assert await stored_row_counts(db) == counts


# ------------------------------------------------------------------------- large files

ROWS = 10_000


def write_large_csv(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write("sourceType,sourceRef,title,start,severity\n")
        for n in range(ROWS):
            severity = ("critical", "high", "medium", "low", "info")[n % 5]
            file.write(f"CUSTOM,bulk-{n:05d},Bulk row {n},{START},{severity}\n")


async def test_a_10000_row_file_streamed_from_disk_is_imported(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "large.csv"
    write_large_csv(path)
    with path.open("rb") as file:  # httpx streams the file from disk in chunks
        files = {"file": ("large.csv", file, "text/csv")}
        response = await client.post(UPLOAD, files=files, headers=auth("acme", "ANALYST"))
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert summary(body) == {
        "total": ROWS,
        "created": ROWS,
        "updated": 0,
        "unchanged": 0,
        "errors": 0,
    }
    assert [row["row"] for row in body["rows"]] == list(range(1, ROWS + 1))
    assert body["rows"][-1]["sourceRef"] == f"bulk-{ROWS - 1:05d}"
    assert len({row["incidentId"] for row in body["rows"]}) == ROWS
    assert await incident_count(db) == ROWS
    assert await source_count(db) == ROWS


BIG_CELL = "t" * 100_000  # one title over its 500-character limit, and a large line
BIG_ROWS = 300


def write_file_of_large_lines(path: Path) -> int:
    """Mostly rows refused for their long title (cheap to report), a few good ones."""
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write("sourceType,sourceRef,title,start\n")
        for n in range(BIG_ROWS):
            title = f"Good {n}" if n % 100 == 0 else BIG_CELL
            file.write(f"CUSTOM,big-{n},{title},{START}\n")
    return path.stat().st_size


async def test_the_upload_is_read_line_by_line_not_whole(
    client: httpx.AsyncClient, auth: AuthHeaders, db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "large-lines.csv"
    size = write_file_of_large_lines(path)
    tracemalloc.start()
    try:
        with path.open("rb") as file:
            files = {"file": ("large-lines.csv", file, "text/csv")}
            response = await client.post(UPLOAD, files=files, headers=auth("acme", "ANALYST"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert (body["total"], body["created"], body["errors"]) == (BIG_ROWS, 3, BIG_ROWS - 3)
    assert body["rows"][1]["errors"] == [
        {"field": "title", "message": "String should have at most 500 characters"}
    ]
    assert await incident_count(db) == 3
    # Reading the whole upload would hold at least the file's size (bytes, then text);
    # the streamed import holds a line, read buffers (Starlette keeps up to 1 MB of an
    # upload in memory before spooling it to disk) and the per-row report.
    assert peak < size / 5, f"peak traced memory {peak} bytes for a {size}-byte file"
