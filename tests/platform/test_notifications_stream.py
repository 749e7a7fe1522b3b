"""The org's notification stream over real HTTP: resumption, org isolation, auth, links."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.conftest import REPO
from tests.platform.harness import Platform, make_settings, running_platform
from tests.platform.sse import sse_events

SHOUT = """
workflow:
  id: shout
  triggers:
    - type: manual
      inputs:
        - {name: message, type: string, required: true}
  steps:
    - name: say
      provider: {type: notify, with: {message: "{{ inputs.message }}"}}
"""

LINKED = """
workflow:
  id: linked
  triggers: [{type: manual}]
  steps:
    - name: say
      provider:
        type: notify
        with:
          message: with links
          links:
            - {text: Runbook, url: "https://runbooks.example.com/db", external: true}
            - {text: Incident page, url: "https://fireline.example.com/i/1", external: false}
            - {text: Dashboard, url: "https://grafana.example.com/d/1"}
"""

GUARD_SECONDS = 30  # only bounds a hang; never asserted on
QUIET_SECONDS = 2.0  # several polls of the feed (0.5 s each)


@pytest.fixture
async def platform(tmp_path: Path, temporal_env: WorkflowEnvironment) -> AsyncIterator[Platform]:
    workflows = tmp_path / "wf"
    workflows.mkdir()
    (workflows / "shout.yaml").write_text(textwrap.dedent(SHOUT))
    (workflows / "linked.yaml").write_text(textwrap.dedent(LINKED))
    shutil.copy(REPO / "yaml_workflows" / "announce.yaml", workflows / "announce.yaml")
    settings = make_settings(tmp_path, temporal_env, workflows, {})
    async with running_platform(settings, temporal_env) as running:
        yield running


async def run_to_completion(
    platform: Platform, workflow_id: str, inputs: dict[str, Any], org: str = "acme"
) -> str:
    response = await platform.http.post(
        f"/v1/workflows/{workflow_id}/run", json={"inputs": inputs}, headers=platform.auth(org)
    )
    assert response.status_code == 201, response.text
    run_id: str = response.json()["run_id"]
    await platform.client.get_workflow_handle(run_id).result()
    return run_id


async def shout(platform: Platform, message: str, org: str = "acme") -> dict[str, Any]:
    """Run `shout`; return the notification it stored (as the list endpoint shows it)."""
    run_id = await run_to_completion(platform, "shout", {"message": message}, org)
    [note] = [n for n in await platform.notifications(org) if n["source"] == run_id]
    assert note["message"] == message
    return note


def as_streamed(note: dict[str, Any]) -> dict[str, Any]:
    """The stream's frame carries the stored notification without its org."""
    return {key: value for key, value in note.items() if key != "org_id"}


@contextlib.asynccontextmanager
async def open_stream(
    platform: Platform, headers: dict[str, str], params: dict[str, Any] | None = None
) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
    async with platform.http.stream(
        "GET", "/v1/notifications/stream", headers=headers, params=params
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield sse_events(response)


async def next_event(events: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    return await asyncio.wait_for(anext(events), GUARD_SECONDS)


@pytest.mark.parametrize("resume_with", ["last-event-id header", "after_id query"])
async def test_stream_resumes_right_after_the_given_id(
    platform: Platform, resume_with: str
) -> None:
    first = await shout(platform, "one")
    second = await shout(platform, "two")
    third = await shout(platform, "three")
    assert first["id"] < second["id"] < third["id"]

    headers = platform.auth()
    params: dict[str, Any] = {}
    if resume_with == "last-event-id header":
        headers["Last-Event-ID"] = str(first["id"])
    else:
        params["after_id"] = first["id"]

    async with open_stream(platform, headers, params) as events:
        got = [await next_event(events), await next_event(events)]
        assert [e["event"] for e in got] == ["notification", "notification"]
        assert [e["id"] for e in got] == [str(second["id"]), str(third["id"])]
        assert [e["data"] for e in got] == [as_streamed(second), as_streamed(third)]

        # Nothing else was queued in between: the next frame is the next new notification.
        fourth = await shout(platform, "four")
        live = await next_event(events)
        assert live["id"] == str(fourth["id"])
        assert live["data"] == as_streamed(fourth)


async def test_last_event_id_header_wins_over_the_after_id_query(platform: Platform) -> None:
    # A browser reconnecting re-sends the original URL (?after_id=0) plus Last-Event-ID.
    await shout(platform, "one")
    second = await shout(platform, "two")
    third = await shout(platform, "three")
    headers = {**platform.auth(), "Last-Event-ID": str(second["id"])}
    async with open_stream(platform, headers, {"after_id": 0}) as events:
        event = await next_event(events)
    assert event["id"] == str(third["id"])
    assert event["data"]["message"] == "three"


async def test_list_endpoint_pages_with_after_id(platform: Platform) -> None:
    notes = [await shout(platform, text) for text in ("one", "two", "three")]
    assert [n["message"] for n in await platform.notifications()] == ["one", "two", "three"]
    after_first = await platform.notifications(after_id=notes[0]["id"])
    assert [n["id"] for n in after_first] == [notes[1]["id"], notes[2]["id"]]
    assert await platform.notifications(after_id=notes[2]["id"]) == []
    assert [n["id"] for n in await platform.notifications(limit=1)] == [notes[0]["id"]]


async def test_another_org_never_sees_the_notifications(platform: Platform) -> None:
    await shout(platform, "acme secret one", org="acme")
    await shout(platform, "acme secret two", org="acme")
    assert await platform.notifications("globex") == []

    lines: list[str] = []

    async def first_notification(response: httpx.Response) -> dict[str, str]:
        frame: dict[str, str] = {}
        async for line in response.aiter_lines():
            lines.append(line)
            if line:
                key, _, value = line.partition(":")
                frame[key] = value.strip()
            elif frame.get("event") == "notification":
                return frame
            else:
                frame = {}
        raise AssertionError("stream ended")

    async with platform.http.stream(
        "GET", "/v1/notifications/stream", headers=platform.auth("globex")
    ) as response:
        assert response.status_code == 200
        reader = asyncio.create_task(first_notification(response))
        try:
            await shout(platform, "acme secret three", org="acme")  # while globex listens
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), QUIET_SECONDS)
            frames = [line for line in lines if line]
            assert all(line == "retry: 2000" or line.startswith(":") for line in frames), lines
            assert not any("acme secret" in line for line in lines)

            # The stream is live: globex's own notification is the first one it gets.
            mine = await shout(platform, "for globex", org="globex")
            frame = await asyncio.wait_for(reader, GUARD_SECONDS)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
    assert frame["id"] == str(mine["id"])
    assert '"for globex"' in frame["data"]
    assert [n["message"] for n in await platform.notifications("globex")] == ["for globex"]
    assert "for globex" not in [n["message"] for n in await platform.notifications("acme")]


async def stream_status(
    platform: Platform, headers: dict[str, str], params: dict[str, Any] | None = None
) -> tuple[int, Any]:
    """Status and JSON body of a stream request that is expected to be refused."""
    async with platform.http.stream(
        "GET", "/v1/notifications/stream", headers=headers, params=params
    ) as response:
        if response.status_code == 200:
            return 200, None  # do not read an endless stream
        await response.aread()
        return response.status_code, response.json()


async def test_stream_needs_a_valid_token(platform: Platform) -> None:
    status, body = await stream_status(platform, {})
    assert status == 401
    assert body["detail"] == "missing bearer token"
    status, body = await stream_status(platform, {"Authorization": "Bearer not-a-jwt"})
    assert status == 401
    assert "invalid token" in body["detail"]
    assert (await platform.http.get("/v1/notifications")).status_code == 401


@pytest.mark.parametrize("value", ["-1", "abc"])
async def test_stream_rejects_a_bad_last_event_id(platform: Platform, value: str) -> None:
    status, body = await stream_status(platform, {**platform.auth(), "Last-Event-ID": value})
    assert status == 422
    assert [error["loc"] for error in body["detail"]] == [["header", "last-event-id"]]


async def test_stream_rejects_a_negative_after_id(platform: Platform) -> None:
    status, body = await stream_status(platform, platform.auth(), {"after_id": -1})
    assert status == 422
    assert [error["loc"] for error in body["detail"]] == [["query", "after_id"]]


async def test_notify_links_keep_text_url_and_external(platform: Platform) -> None:
    run_id = await run_to_completion(platform, "linked", {})
    [note] = await platform.notifications()
    assert note["source"] == run_id
    expected = [
        {"text": "Runbook", "url": "https://runbooks.example.com/db", "external": True},
        {"text": "Incident page", "url": "https://fireline.example.com/i/1", "external": False},
        {"text": "Dashboard", "url": "https://grafana.example.com/d/1", "external": True},
    ]
    assert note["links"] == expected
    async with open_stream(platform, platform.auth()) as events:
        event = await next_event(events)
    assert event["data"]["links"] == expected


async def test_shipped_announce_turns_its_link_input_into_a_link(platform: Platform) -> None:
    url = "https://status.example.com/incidents/42"
    run_id = await run_to_completion(platform, "announce", {"message": "Status page", "link": url})
    [note] = await platform.notifications()
    assert note["source"] == run_id
    assert note["message"] == "Status page"
    assert note["links"] == [{"text": url, "url": url, "external": True}]


async def test_shipped_announce_runs_without_its_optional_link(platform: Platform) -> None:
    run_id = await run_to_completion(platform, "announce", {"message": "No link"})
    [note] = await platform.notifications()
    assert note["source"] == run_id
    assert note["message"] == "No link"
    assert note["links"] == []
