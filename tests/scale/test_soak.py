"""The soak's short form (bench/soak.py): the production shape on PostgreSQL, processes
killed with SIGKILL and PostgreSQL restarted while incidents and sessions flow, then
nothing lost, nothing doubled. `make soak` runs the long form."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.processes import postgres_server_url
from bench.soak import SHORT, soak


@pytest.mark.skipif(postgres_server_url() is None, reason="needs a PostgreSQL server")
async def test_killed_processes_and_a_database_restart_lose_and_double_nothing(
    tmp_path: Path,
) -> None:
    server_url = postgres_server_url()
    assert server_url is not None
    report = await soak(SHORT, server_url, tmp_path, print)
    print("\n".join(report.lines()))

    assert report.findings.violations == []
    kills = [fault for fault in report.faults if fault.startswith("kill -9")]
    assert len(kills) >= 5
    if os.geteuid() == 0:  # pg_ctlcluster needs root; CI runs as root
        assert "PostgreSQL restarted" in report.faults
    incidents = SHORT.incidents + SHORT.sessions + 3 * SHORT.throughput_incidents
    assert f"Jira tickets: {incidents} for {incidents} incidents" in report.findings.counted
    assert f"workflow runs in Temporal: {incidents} for {incidents} incidents" in (
        report.findings.counted
    )
    sessions = [line for line in report.findings.counted if line.startswith("sessions:")]
    assert sessions == ["sessions: 6 (4 completed, 2 rolled_back)"]
    assert set(report.throughput) == {1, 2, 3}
