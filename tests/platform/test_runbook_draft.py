"""A runbook draft for an incident, over HTTP (JSON or a file to download) and from the
CLI; both pass `fireline lint`, and another org's incident is not found."""

from __future__ import annotations

import asyncio
from pathlib import Path

from dsl.compiler import compile_text
from services.incidents import IncidentService
from store.db import Database
from store.enums import Severity
from tests.cli.test_ingest_cli import Result, run_fireline
from tests.platform.harness import Platform
from tests.platform.session_helpers import new_org


async def test_a_draft_comes_as_json_or_as_a_yaml_file(platform: Platform) -> None:
    org = new_org()
    incident = await platform.create_incident(org, title="Disk full on db-7", service="db")
    url = f"/v1/incidents/{incident['id']}/runbook-draft"

    as_json = await platform.http.post(url, headers=platform.auth(org, "VIEWER"))
    as_file = await platform.http.post(url, params={"format": "yaml"}, headers=platform.auth(org))

    assert as_json.status_code == 200, as_json.text
    draft = as_json.json()
    assert draft["runbook_id"] == "disk-full-on-db-7"
    assert compile_text(draft["yaml"], draft["file_name"]).errors == []
    assert as_file.status_code == 200
    assert as_file.headers["content-type"].startswith("application/yaml")
    assert 'filename="disk-full-on-db-7.yaml"' in as_file.headers["content-disposition"]
    assert as_file.text == draft["yaml"]


async def test_bad_draft_requests_are_refused(platform: Platform) -> None:
    org = new_org()
    incident = await platform.create_incident(org, title="Disk full")
    url = f"/v1/incidents/{incident['id']}/runbook-draft"

    other_org = await platform.http.post(url, headers=platform.auth(new_org()))
    bad_format = await platform.http.post(url, params={"format": "pdf"}, headers=platform.auth(org))
    anonymous = await platform.http.post(url)

    assert other_org.status_code == 404
    assert bad_format.status_code == 422 and "format" in bad_format.text
    assert anonymous.status_code == 401


async def _incident_in(data_dir: Path, title: str) -> str:
    db = Database(f"sqlite+aiosqlite:///{data_dir / 'fireline.db'}")
    try:
        await db.migrate()
        created = await IncidentService(db).create(
            org_id="acme", actor="test", title=title, severity=Severity.SEV2, service="checkout"
        )
        return created.id
    finally:
        await db.dispose()


async def test_the_cli_writes_a_draft_that_fireline_lint_accepts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    incident_id = await _incident_in(data_dir, "Checkout latency above 2s")
    out = tmp_path / "drafts"
    out.mkdir()

    def fireline(*args: str) -> Result:
        return run_fireline(*args, data_dir=data_dir)

    draft = ("runbook", "draft", "--incident", incident_id)
    written = await asyncio.to_thread(fireline, *draft, "--org", "acme", "--out", str(out))
    again = await asyncio.to_thread(fireline, *draft, "--org", "acme", "--out", str(out))
    linted = await asyncio.to_thread(fireline, "lint", str(out))
    missing = await asyncio.to_thread(fireline, *draft, "--org", "globex")

    assert written.returncode == 0, written.stderr
    [written_file] = list(out.iterdir())
    assert written_file.name == "checkout-latency-above-2s.yaml"
    assert again.returncode == 1 and "exists" in again.stderr
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert missing.returncode == 1 and incident_id in missing.stderr
