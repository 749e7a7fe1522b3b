"""A session start sent with an Idempotency-Key starts one session, even when the process
that handled the first attempt died at any point of it."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update

from core.ids import utcnow
from services.idempotency import ABANDONED_AFTER
from store.models import IdempotencyKeyModel
from tests.platform.harness import Platform
from tests.platform.session_helpers import add_runbook, list_sessions, new_org

NOOP = """
runbook:
  id: noop
  name: Does nothing
  steps:
    - {name: nothing, run: "true", connector: local}
"""


async def start(platform: Platform, org: str, incident_id: str, key: str) -> httpx.Response:
    return await platform.http.post(
        f"/v1/incidents/{incident_id}/runbooks/noop/execute",
        json={"inputs": {}},
        headers={**platform.auth(org, "ONCALL_ENGINEER"), "Idempotency-Key": key},
    )


async def new_incident(platform: Platform, org: str) -> str:
    return str((await platform.create_incident(org))["id"])


async def die_mid_request(platform: Platform, org: str, key: str) -> None:
    """Make the key's claim look like one whose process died before keeping the answer."""
    async with platform.db.session() as session:
        await session.execute(
            update(IdempotencyKeyModel)
            .where(IdempotencyKeyModel.org_id == org, IdempotencyKeyModel.key == key)
            .values(
                status_code=None,
                response=None,
                renewed_at=utcnow() - ABANDONED_AFTER - timedelta(seconds=1),
            )
        )


async def test_a_retried_start_gets_the_first_session_back(platform: Platform) -> None:
    org = new_org()
    await add_runbook(platform, "noop", NOOP)
    incident_id = await new_incident(platform, org)

    first = await start(platform, org, incident_id, "start-1")
    retry = await start(platform, org, incident_id, "start-1")

    assert first.status_code == retry.status_code == 201, retry.text
    assert retry.json()["session_id"] == first.json()["session_id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert [s["session_id"] for s in await list_sessions(platform, org)] == [
        first.json()["session_id"]
    ]


async def test_a_start_whose_process_died_after_its_commit_is_found_again(
    platform: Platform,
) -> None:
    org = new_org()
    await add_runbook(platform, "noop", NOOP)
    incident_id = await new_incident(platform, org)
    first = await start(platform, org, incident_id, "start-1")
    assert first.status_code == 201, first.text
    await die_mid_request(platform, org, "start-1")

    retry = await start(platform, org, incident_id, "start-1")

    assert retry.status_code == 201, retry.text
    assert "Idempotent-Replayed" not in retry.headers  # it ran again, and found the session
    assert (
        retry.json()["session_id"]
        == first.json()["session_id"]
        == (f"{org}:{incident_id}:runbook:noop:1")
    )
    assert len(await list_sessions(platform, org)) == 1
    assert not await platform.run_exists(f"{org}:{incident_id}:runbook:noop:2")
    # Another key is another request: a second session.
    other = await start(platform, org, incident_id, "start-2")
    assert other.json()["session_id"] == f"{org}:{incident_id}:runbook:noop:2"


async def test_a_start_whose_process_died_before_its_commit_adopts_its_workflow(
    platform: Platform,
) -> None:
    org = new_org()
    await add_runbook(platform, "noop", NOOP)
    incident_id = await new_incident(platform, org)
    taken = f"{org}:{incident_id}:runbook:noop:1"
    # The dead attempt started the workflow, then died before the session row committed.
    orphan = await platform.client.start_workflow(
        "Orphan",
        id=taken,
        task_queue=f"{org}-nobody",
        memo={"request_key": "start-1"},
    )
    try:
        other_key = await start(platform, org, incident_id, "start-other")
        assert other_key.status_code == 409
        assert f"a Temporal workflow with id '{taken}' already exists" in other_key.text
        assert await list_sessions(platform, org) == []

        retry = await start(platform, org, incident_id, "start-1")

        assert retry.status_code == 201, retry.text
        assert retry.json()["session_id"] == taken
        assert [s["session_id"] for s in await list_sessions(platform, org)] == [taken]
        assert (await orphan.describe()).workflow_type == "Orphan"  # not started twice
    finally:
        await orphan.terminate("test cleanup")


async def test_a_start_without_a_key_always_starts_a_new_session(platform: Platform) -> None:
    org = new_org()
    await add_runbook(platform, "noop", NOOP)
    incident_id = await new_incident(platform, org)
    headers = platform.auth(org, "ONCALL_ENGINEER")
    path = f"/v1/incidents/{incident_id}/runbooks/noop/execute"

    answers = [await platform.http.post(path, json={}, headers=headers) for _ in range(2)]

    assert [a.json()["number"] for a in answers] == [1, 2]
