"""The real `fireline servicenow import` in a subprocess against FakeServiceNow: paging,
what it leaves in the database, running it twice, skipped and failed records, exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from store.db import Database
from store.models import IncidentModel
from tests.cli.test_ingest_cli import Result, database_file, run_fireline
from tests.fakes.servicenow_server import FakeServiceNow


@pytest.fixture
def fake() -> Iterator[FakeServiceNow]:
    with FakeServiceNow() as servicenow:
        yield servicenow


@pytest.fixture
def data_dir(tmp_path: Path, fake: FakeServiceNow) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    auth = {"url": fake.url, "username": fake.USER, "password": fake.PASSWORD}
    providers = {"servicenow": {"type": "servicenow", "authentication": auth}}
    (data / "providers.yaml").write_text(yaml.safe_dump(providers))
    return data


def servicenow_import(*args: str, data_dir: Path) -> Result:
    return run_fireline("servicenow", "import", "--org", "acme", *args, data_dir=data_dir)


async def stored(data_dir: Path) -> list[tuple[str, str, str, str]]:
    """(org, source type, source ref, title) of every incident, by title."""
    db = Database(f"sqlite+aiosqlite:///{database_file(data_dir)}")
    try:
        async with db.read_session() as session:
            rows = await session.execute(
                select(
                    IncidentModel.org_id,
                    IncidentModel.source_type,
                    IncidentModel.source_ref,
                    IncidentModel.title,
                )
            )
            return sorted((tuple(row) for row in rows.all()), key=lambda row: row[3])
    finally:
        await db.dispose()


def seed(fake: FakeServiceNow, count: int, **fields: str) -> list[dict[str, str]]:
    return [
        fake.add_incident(short_description=f"Disk full on db-{n}", **fields) for n in range(count)
    ]


async def test_import_pages_through_the_open_incidents_and_a_second_run_changes_nothing(
    fake: FakeServiceNow, data_dir: Path
) -> None:
    open_ones = seed(fake, 5)
    seed(fake, 2, state="7")  # closed: not active

    first = servicenow_import("--query", "state!=7", "--page-size", "2", data_dir=data_dir)
    second = servicenow_import("--query", "state!=7", "--page-size", "2", data_dir=data_dir)

    assert first.returncode == 0, first.stderr
    assert "5 read: 5 created, 0 updated, 0 unchanged" in first.stdout
    assert "5 read: 0 created, 0 updated, 5 unchanged" in second.stdout
    rows = await stored(data_dir)
    assert [(org, ref) for org, _, ref, _ in rows] == [("acme", r["sys_id"]) for r in open_ones]
    assert {source for _, source, _, _ in rows} == {"SERVICENOW"}
    offsets = [r.query.get("sysparm_offset") for r in fake.requests if r.method == "GET"]
    assert offsets[:3] == [["0"], ["2"], ["4"]]


async def test_tickets_fireline_opened_itself_are_skipped(
    fake: FakeServiceNow, data_dir: Path
) -> None:
    seed(fake, 1)
    fake.add_incident(
        short_description="[SEV2] Checkout 5xx",
        correlation_id="fireline:" + "a" * 32,
        correlation_display="Fireline",
    )

    result = servicenow_import("--query", "", data_dir=data_dir)

    assert result.returncode == 0, result.stderr
    assert "2 read: 1 created" in result.stdout
    assert "1 skipped (opened by Fireline)" in result.stdout
    assert [title for *_, title in await stored(data_dir)] == ["Disk full on db-0"]


async def test_a_record_without_a_description_is_reported_and_the_others_kept(
    fake: FakeServiceNow, data_dir: Path
) -> None:
    seed(fake, 2)
    broken = fake.add_incident(short_description="")

    result = servicenow_import("--query", "", data_dir=data_dir)

    assert result.returncode == 1
    assert "1 with errors" in result.stdout
    assert broken["number"] in result.stderr
    assert len(await stored(data_dir)) == 2


async def test_wrong_credentials_exit_2_and_store_nothing(
    fake: FakeServiceNow, data_dir: Path
) -> None:
    seed(fake, 1)
    fake.users[fake.USER] = "rotated"

    result = servicenow_import(data_dir=data_dir)

    assert result.returncode == 2
    assert "authentication failed" in result.stderr
    assert fake.PASSWORD not in result.stderr + result.stdout
    assert not database_file(data_dir).exists() or await stored(data_dir) == []


async def test_a_missing_connection_exits_2_naming_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()

    result = servicenow_import("--connection", "snow-prod", data_dir=data)

    assert result.returncode == 2
    assert "connection 'snow-prod' is not configured" in result.stderr
