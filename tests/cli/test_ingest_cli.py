"""The real `fireline ingest FILE` in a subprocess: summary, row errors, exit codes, and the
incidents it leaves in the configured database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from store.db import Database
from store.models import IncidentEventModel, IncidentModel

FIRELINE = Path(sys.executable).parent / "fireline"
GUARD_SECONDS = 120  # only bounds a hang; the tests never assert on elapsed time
START = "2024-05-01T10:00:00Z"
HEADER = "sourceType,sourceRef,title,start,severity,tags"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_fireline(*args: str, data_dir: Path, settings: dict[str, str] | None = None) -> Result:
    """`fireline ARGS` with this data dir and no other FIRELINE_ setting than `settings`,
    plain output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRELINE_")}
    env.pop("FORCE_COLOR", None)
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "FIRELINE_DATA_DIR": str(data_dir)})
    env.update(settings or {})
    process = subprocess.Popen(
        [str(FIRELINE), *args],
        cwd=data_dir.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=GUARD_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the group of the process started here
        process.communicate()
        raise AssertionError(f"`fireline {' '.join(args)}` did not exit") from None
    return Result(process.returncode, stdout, stderr)


def fireline_ingest(*args: str, data_dir: Path) -> Result:
    return run_fireline("ingest", *args, data_dir=data_dir)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def database_file(data_dir: Path) -> Path:
    return data_dir / "fireline.db"


async def stored_incidents(data_dir: Path) -> list[tuple[str, str | None, str]]:
    """(org, source ref, status) of every incident, by source ref."""
    db = Database(f"sqlite+aiosqlite:///{database_file(data_dir)}")
    try:
        async with db.read_session() as session:
            rows = await session.execute(
                select(IncidentModel.org_id, IncidentModel.source_ref, IncidentModel.status)
            )
            return sorted((org, ref, status) for org, ref, status in rows.all())
    finally:
        await db.dispose()


async def event_actors(data_dir: Path) -> set[str]:
    db = Database(f"sqlite+aiosqlite:///{database_file(data_dir)}")
    try:
        async with db.read_session() as session:
            return set((await session.execute(select(IncidentEventModel.actor))).scalars())
    finally:
        await db.dispose()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -------------------------------------------------------------------------------------- CSV


async def test_a_csv_with_bad_rows_imports_the_good_ones_and_exits_1(
    tmp_path: Path, data_dir: Path
) -> None:
    path = write(
        tmp_path / "incidents.csv",
        f"{HEADER}\n"
        f"CUSTOM,disk-1,Disk full,{START},high,disk;db\n"
        f"CUSTOM,disk-2,,2024-05-01T10:00:00,urgent,\n"
        f"PAGERDUTY,pd-1,Checkout 5xx,{START},,\n",
    )
    result = fireline_ingest(str(path), data_dir=data_dir)
    assert result.returncode == 1, result.stderr
    assert result.stdout.strip() == (
        f"{path}: 3 row(s): 2 created, 0 updated, 0 unchanged, 1 with errors"
    )
    assert result.stderr.splitlines() == [
        f"{path}:row 2: title: Field required",
        f"{path}:row 2: start: Input should have timezone info",
        f"{path}:row 2: severity: Input should be 'critical', 'high', 'medium', 'low' or 'info'",
    ]
    assert await stored_incidents(data_dir) == [
        ("default", "disk-1", "OPEN"),
        ("default", "pd-1", "OPEN"),
    ]
    assert await event_actors(data_dir) == {"cli"}


async def test_a_second_run_is_unchanged_and_a_resolve_updates(
    tmp_path: Path, data_dir: Path
) -> None:
    csv = f"sourceType,sourceRef,title,start,resolvedAt\nCUSTOM,r1,Disk full,{START},\n"
    path = write(tmp_path / "incidents.csv", csv)
    assert fireline_ingest(str(path), data_dir=data_dir).returncode == 0
    again = fireline_ingest(str(path), data_dir=data_dir)
    assert again.returncode == 0
    assert "1 row(s): 0 created, 0 updated, 1 unchanged, 0 with errors" in again.stdout
    assert again.stderr == ""
    write(path, csv.replace(f"{START},\n", f"{START},2024-05-01T12:00:00Z\n"))
    resolved = fireline_ingest(str(path), data_dir=data_dir)
    assert "0 created, 1 updated, 0 unchanged" in resolved.stdout
    assert await stored_incidents(data_dir) == [("default", "r1", "RESOLVED")]


async def test_org_and_actor_options(tmp_path: Path, data_dir: Path) -> None:
    path = write(tmp_path / "incidents.csv", f"{HEADER}\nCUSTOM,r1,Disk full,{START},,\n")
    result = fireline_ingest(str(path), "--org", "acme", "--actor", "importer", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert await stored_incidents(data_dir) == [("acme", "r1", "OPEN")]
    assert await event_actors(data_dir) == {"importer"}


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad-header.csv", "sourceType,title,owner\nCUSTOM,t,x\n", "unknown column(s): 'owner'"),
        ("empty.csv", "", "the file is empty"),
        (
            "latin1.csv",
            f"{HEADER}\nCUSTOM,r1,Caf\xe9,{START},,\n",
            "row 1 cannot be read: it is not UTF-8",
        ),
        ("broken.json", '{"incidents": [', "not valid JSON"),
        ("shape.json", '{"items": []}', "expected a JSON list of incidents"),
        ("notes.txt", "hello", "expected a .csv or .json file"),
    ],
)
async def test_an_unreadable_file_exits_2_and_stores_nothing(
    tmp_path: Path, data_dir: Path, name: str, content: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content.encode("latin-1" if name == "latin1.csv" else "utf-8"))
    result = fireline_ingest(str(path), data_dir=data_dir)
    assert result.returncode == 2
    assert result.stderr.startswith(f"{path}: ")
    assert expected in result.stderr
    assert not database_file(data_dir).exists()


async def test_a_missing_file_exits_2(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "nowhere.csv"
    result = fireline_ingest(str(path), data_dir=data_dir)
    assert result.returncode == 2
    assert result.stderr.strip() == f"{path}: cannot be read (No such file or directory)"
    assert not database_file(data_dir).exists()


# ------------------------------------------------------------------------------------- JSON


def generic(ref: str, **fields: Any) -> dict[str, Any]:
    return {
        "sourceType": "CUSTOM",
        "sourceRef": ref,
        "title": f"Incident {ref}",
        "timeline": {"start": START},
        **fields,
    }


@pytest.mark.parametrize("wrap", [False, True], ids=["list", "incidents-object"])
async def test_a_json_file_is_imported(tmp_path: Path, data_dir: Path, wrap: bool) -> None:
    items = [generic("j1", severity="critical"), generic("j2", status="acknowledged")]
    path = tmp_path / "incidents.json"
    path.write_text(json.dumps({"incidents": items} if wrap else items))
    result = fireline_ingest(str(path), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "2 row(s): 2 created, 0 updated, 0 unchanged, 0 with errors" in result.stdout
    assert await stored_incidents(data_dir) == [
        ("default", "j1", "OPEN"),
        ("default", "j2", "INVESTIGATING"),
    ]


async def test_json_items_with_errors_are_reported_by_item_and_field_path(
    tmp_path: Path, data_dir: Path
) -> None:
    items = [
        generic("j1"),
        generic("j2", timeline={"start": "2024-05-01T10:00:00"}, owner="bob"),
        generic("j3"),
    ]
    path = tmp_path / "incidents.json"
    path.write_text(json.dumps(items))
    result = fireline_ingest(str(path), data_dir=data_dir)
    assert result.returncode == 1
    assert "3 row(s): 2 created, 0 updated, 0 unchanged, 1 with errors" in result.stdout
    assert result.stderr.splitlines() == [
        f"{path}:row 2: timeline.start: Input should have timezone info",
        f"{path}:row 2: owner: Extra inputs are not permitted",
    ]
    assert [ref for _, ref, _ in await stored_incidents(data_dir)] == ["j1", "j3"]
