"""`GET /v1/sessions/{id}/stream` over real HTTP: live output from the command activities'
heartbeats, state changes, the end, org isolation, and a session with no worker."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from activities.commands import HEARTBEAT_TAIL_CHARS
from services.session_stream import LIVE_TAIL_CHARS, SessionStream, new_text
from tests.platform.harness import Platform
from tests.platform.sse import sse_events
from tests.workflows.sessions import compile_runbook
from worker import build_worker
from workflows.names import SA_ORG
from workflows.session import RunbookSession
from workflows.session_models import ApprovalDecision, SessionInput, SessionState

GUARD_SECONDS = 60  # only turns a hang into a failure; never asserted on
LINES = [f"line {n}" for n in range(1, 6)]

COUNT_THEN_GATE = """
runbook:
  id: count-then-gate
  name: Count then gate
  approval: {roles: [SRE_LEAD], timeout: 1h}
  steps:
    - name: count
      run: "for n in 1 2 3 4 5; do echo line $n; sleep 1; done"
      connector: local
    - name: gate
      run: echo gate passed
      connector: local
      requires_approval: true
"""

QUICK = """
runbook:
  id: quick
  name: Quick
  steps:
    - {name: hello, run: echo hello from quick, connector: local}
"""

FLOOD = """
runbook:
  id: flood
  name: Flood
  steps:
    - name: flood
      connector: local
      run: |
        echo start
        while [ ! -f @GO@ ]; do sleep 0.1; done
        head -c 6000 /dev/zero | tr '\\0' x
        echo
        sleep 3
        echo end
"""

UNDO_SLOWLY = """
runbook:
  id: undo-slowly
  name: Undo slowly
  steps:
    - name: change
      run: echo changed
      connector: local
      rollback: "echo undoing change; sleep 3; echo undone"
    - {name: boom, run: exit 3, connector: local}
"""


async def start_session(
    platform: Platform,
    runbook: str,
    *,
    org: str = "acme",
    task_queue: str | None = None,
    **placeholders: str,
) -> WorkflowHandle[RunbookSession, SessionState]:
    plan = compile_runbook(runbook, **placeholders)
    session_id = f"{org}:INC-{uuid.uuid4().hex[:8]}:runbook:{plan.id}:1"
    request = SessionInput(
        session_id=session_id,
        org_id=org,
        plan=plan,
        requester="alice",
        mode="auto",  # only `requires_approval` steps ask
        confidence=1.0,
    )
    return await platform.client.start_workflow(
        RunbookSession.run,
        request,
        id=session_id,
        task_queue=task_queue or platform.settings.task_queue,
        search_attributes=TypedSearchAttributes([SearchAttributePair(SA_ORG, org)]),
    )


@contextlib.asynccontextmanager
async def open_stream(
    platform: Platform, session_id: str, org: str = "acme", *roles: str
) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
    async with platform.http.stream(
        "GET", f"/v1/sessions/{session_id}/stream", headers=platform.auth(org, *roles)
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield sse_events(response)


async def next_event(events: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    return await asyncio.wait_for(anext(events), GUARD_SECONDS)


async def read_until(
    events: AsyncIterator[dict[str, Any]], seen: list[dict[str, Any]], stop: Any
) -> dict[str, Any]:
    """Append events to `seen` until one satisfies `stop`; return it."""
    while True:
        event = await next_event(events)
        seen.append(event)
        if stop(event):
            return event


def is_end(event: dict[str, Any]) -> bool:
    return event["event"] == "end"


def waits_for_approval(event: dict[str, Any]) -> bool:
    return event["event"] == "state" and event["data"]["status"] == "waiting_approval"


def outputs(events: list[dict[str, Any]], step: str, purpose: str = "step") -> list[dict[str, Any]]:
    return [
        e["data"]
        for e in events
        if e["event"] == "output" and (e["data"]["step"], e["data"]["purpose"]) == (step, purpose)
    ]


def step_status(event: dict[str, Any], step: str) -> str | None:
    if event["event"] != "state":
        return None
    return next((s["status"] for s in event["data"]["steps"] if s["name"] == step), None)


async def stream_refusal(platform: Platform, session_id: str, org: str) -> tuple[int, Any]:
    async with platform.http.stream(
        "GET", f"/v1/sessions/{session_id}/stream", headers=platform.auth(org, "VIEWER")
    ) as response:
        if response.status_code == 200:
            return 200, None  # do not read an endless stream
        await response.aread()
        return response.status_code, response.json()


async def test_output_streams_live_in_order_then_the_approval_wait_and_the_end(
    platform: Platform,
) -> None:
    handle = await start_session(platform, COUNT_THEN_GATE)
    seen: list[dict[str, Any]] = []
    async with open_stream(platform, handle.id, "acme", "VIEWER") as events:
        await read_until(events, seen, waits_for_approval)
        await handle.execute_update(
            RunbookSession.decide,
            ApprovalDecision(
                step="gate", approve=True, approver="bob", approver_roles=["SRE_LEAD"]
            ),
        )
        end = await read_until(events, seen, is_end)

    count = outputs(seen, "count")
    # Live: the first chunk came while the command was still printing, the later ones only
    # carry new text, and together they are the output in order, without a gap.
    assert len(count) >= 2, count
    assert count[0]["text"].startswith("line 1\n") and "line 5" not in count[0]["text"]
    assert "".join(chunk["text"] for chunk in count).splitlines() == LINES
    assert not any(chunk["gap"] for chunk in count)
    assert all(chunk["pid"] for chunk in count[:-1])  # the heartbeat says which process
    assert all(chunk["host"] for chunk in count)

    first_count_output = seen.index(next(e for e in seen if e["event"] == "output"))
    count_done = next(i for i, e in enumerate(seen) if step_status(e, "count") == "succeeded")
    assert first_count_output < count_done

    waiting = next(e for e in seen if waits_for_approval(e))
    assert waiting["data"]["pending"]["step"] == "gate"
    assert waiting["data"]["pending"]["roles"] == ["SRE_LEAD"]
    assert step_status(waiting, "count") == "succeeded"

    assert "".join(c["text"] for c in outputs(seen, "gate")) == "gate passed\n"
    last_state = seen[-2]
    assert last_state["event"] == "state" and last_state["data"]["status"] == "completed"
    assert [s["status"] for s in last_state["data"]["steps"]] == ["succeeded", "succeeded"]
    assert end["data"] == {"status": "completed", "temporal_status": "COMPLETED"}

    # Frames are numbered 1, 2, ... and a state event is only sent when something changed.
    assert [int(e["id"]) for e in seen] == list(range(1, len(seen) + 1))
    states = [e["data"] for e in seen if e["event"] == "state"]
    assert all(a != b for a, b in itertools.pairwise(states[:-1]))


async def test_a_stream_opened_after_the_end_gives_the_final_state_and_end_at_once(
    platform: Platform,
) -> None:
    handle = await start_session(platform, QUICK)
    final = await handle.result()
    assert final.status == "completed"

    async with open_stream(platform, handle.id) as events:
        seen: list[dict[str, Any]] = []
        await read_until(events, seen, is_end)

    assert [e["event"] for e in seen] == ["output", "state", "end"]
    assert seen[0]["data"]["text"] == "hello from quick\n"  # the finished step's kept tail
    assert seen[1]["data"]["status"] == "completed" and seen[1]["data"]["phase"] == "done"
    assert seen[1]["data"]["outcome"]["result"] in ("resolved", "in_progress")
    assert seen[2]["data"] == {"status": "completed", "temporal_status": "COMPLETED"}


async def test_rollback_output_streams_with_its_purpose(platform: Platform) -> None:
    handle = await start_session(platform, UNDO_SLOWLY)
    seen: list[dict[str, Any]] = []
    async with open_stream(platform, handle.id) as events:
        end = await read_until(events, seen, is_end)

    undo = outputs(seen, "change", "rollback")
    assert undo, seen
    assert undo[0]["text"].startswith("undoing change\n")
    assert "".join(chunk["text"] for chunk in outputs(seen, "change")) == "changed\n"
    rolling_back = [
        e for e in seen if e["event"] == "state" and e["data"]["status"] == "rolling_back"
    ]
    assert rolling_back
    assert seen.index(rolling_back[0]) < seen.index(
        next(e for e in seen if e["event"] == "output" and e["data"]["purpose"] == "rollback")
    )
    assert seen[-2]["data"]["rollbacks"] == [
        {"step": "change", "status": "undone", "error": None, "attempts": 1},
        {"step": "boom", "status": "no_rollback", "error": None, "attempts": 0},
    ]
    assert end["data"] == {"status": "rolled_back", "temporal_status": "COMPLETED"}


async def test_another_orgs_session_and_an_unknown_one_are_404_before_streaming(
    platform: Platform,
) -> None:
    handle = await start_session(platform, QUICK, org="acme")
    await handle.result()

    status, body = await stream_refusal(platform, handle.id, "globex")
    assert status == 404
    assert body == {
        "detail": f"runbook session '{handle.id}' not found; GET /v1/sessions lists them"
    }
    unknown = "acme:INC-none:runbook:quick:9"
    status, body = await stream_refusal(platform, unknown, "acme")
    assert status == 404
    assert body["detail"].startswith(f"runbook session '{unknown}' not found")

    # The owner still streams it: the 404 was about the caller, not the session.
    async with open_stream(platform, handle.id, "acme", "VIEWER") as events:
        seen: list[dict[str, Any]] = []
        await read_until(events, seen, is_end)
    assert seen[-1]["data"]["status"] == "completed"


async def test_the_stream_needs_a_token(platform: Platform) -> None:
    handle = await start_session(platform, QUICK)
    response = await platform.http.get(f"/v1/sessions/{handle.id}/stream")
    assert response.status_code == 401
    await handle.result()


async def test_without_a_worker_the_stream_says_so_and_keeps_trying(platform: Platform) -> None:
    queue = f"nobody-{uuid.uuid4().hex[:8]}"
    handle = await start_session(platform, QUICK, task_queue=queue)
    seen: list[dict[str, Any]] = []
    async with open_stream(platform, handle.id) as events:
        error = await read_until(events, seen, lambda e: e["event"] == "error")
        assert "fireline worker" in error["data"]["message"]

        # A worker for that queue arrives: the same stream carries on to the end.
        settings = platform.settings.model_copy(update={"task_queue": queue})
        async with build_worker(platform.client, platform.db, settings):
            end = await read_until(events, seen, is_end)

    assert [e["event"] for e in seen].count("error") == 1  # once per outage, not every poll
    assert "".join(c["text"] for c in outputs(seen, "hello")) == "hello from quick\n"
    assert end["data"] == {"status": "completed", "temporal_status": "COMPLETED"}


async def test_a_completed_session_streams_without_a_worker(platform: Platform) -> None:
    queue = f"gone-{uuid.uuid4().hex[:8]}"
    settings = platform.settings.model_copy(update={"task_queue": queue})
    async with build_worker(platform.client, platform.db, settings):
        handle = await start_session(platform, QUICK, task_queue=queue)
        await handle.result()

    # No worker can answer the `state` query now; the run's result is the same state.
    async with open_stream(platform, handle.id) as events:
        seen: list[dict[str, Any]] = []
        await read_until(events, seen, is_end)
    assert [e["event"] for e in seen] == ["output", "state", "end"]
    assert seen[0]["data"]["text"] == "hello from quick\n"
    assert seen[1]["data"]["status"] == "completed"
    assert seen[2]["data"] == {"status": "completed", "temporal_status": "COMPLETED"}


async def test_output_missed_between_two_polls_is_marked_as_a_gap(
    platform: Platform, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    handle = await start_session(platform, FLOOD, go=str(go))
    seen: list[dict[str, Any]] = []
    async with open_stream(platform, handle.id) as events:
        started = await read_until(events, seen, lambda e: e["event"] == "output")
        assert started["data"]["text"] == "start\n"
        go.touch()  # 6000 characters at once: more than a heartbeat's 2000-character tail
        await read_until(events, seen, is_end)

    chunks = outputs(seen, "flood")
    gaps = [i for i, chunk in enumerate(chunks) if chunk["gap"]]
    assert len(gaps) == 1, chunks
    flood = chunks[gaps[0]]["text"]
    assert len(flood) == 2000 and set(flood.strip("\n")) == {"x"}
    streamed = "".join(chunk["text"] for chunk in chunks)
    assert streamed.startswith("start\n" + flood) and streamed.endswith("x\nend\n")
    # What fell between the polls is missing (and said so); nothing came twice.
    assert streamed == "start\n" + "x" * streamed.count("x") + "\nend\n"
    assert streamed.count("x") < 6000


async def test_a_quiet_stream_sends_keepalives(platform: Platform) -> None:
    handle = await start_session(platform, COUNT_THEN_GATE)
    stream = SessionStream(platform.client, poll_interval=0.1, keepalive_seconds=0.5)
    events = await stream.follow("acme", handle.id)
    try:
        while True:
            event = await asyncio.wait_for(anext(events), GUARD_SECONDS)
            if event is not None and event.data.get("status") == "waiting_approval":
                break
        # Nothing changes while the approval waits: keepalives only.
        assert [await asyncio.wait_for(anext(events), GUARD_SECONDS) for _ in range(2)] == [
            None,
            None,
        ]
    finally:
        await events.aclose()  # type: ignore[attr-defined]  # an async generator
        await handle.cancel()


@pytest.mark.parametrize(
    ("sent", "tail", "expected"),
    [
        ("", "line 1\n", ("line 1\n", False)),
        ("line 1\n", "line 1\nline 2\n", ("line 2\n", False)),
        ("line 1\n", "line 1\n", ("", False)),
        # A bounded tail lost its start: the overlap with what was sent finds the new part.
        ("abcdef", "defgh", ("gh", False)),
        # A longer tail (a finished step's) holds all that was sent.
        ("cdef", "abcdefgh", ("gh", False)),
        # Nothing in common: output was missed in between.
        ("abc", "xyz", ("xyz", True)),
        # A new attempt starts empty; that is no new text.
        ("abc", "", ("", True)),
        # Repeated lines: a tail shorter than the heartbeat's bound is all the output.
        ("ok\n", "ok\nok\n", ("ok\n", False)),
        # A full heartbeat tail, then a finished step's longer tail of the same characters:
        # the new text follows the last place the sent tail fits.
        ("x" * 2000, "x" * 3995 + "\nend\n", ("\nend\n", False)),
        ("x" * 2000, "x" * 2000, ("", False)),
    ],
)
def test_new_text(sent: str, tail: str, expected: tuple[str, bool]) -> None:
    assert new_text(sent, tail) == expected


def test_the_live_tail_bound_is_the_heartbeats() -> None:
    assert LIVE_TAIL_CHARS == HEARTBEAT_TAIL_CHARS
