"""Approvals over HTTP against a real platform: the API, the worker and the Temporal dev
server. Sessions are started straight through the Temporal client; marker files show
which steps ran. Every refused request is shown to change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.approvals import (
    ApprovalService,
    DecisionRequest,
    NoOpenSession,
    SessionUnreachableError,
    send_decision,
)
from store.models import IdempotencyKeyModel
from tests.api.helpers import problems
from tests.platform.approval_helpers import (
    APPROVER,
    REQUESTER,
    RUNBOOK_ID,
    ApprovalRig,
    Session,
    decision_shape,
)
from tests.platform.harness import Platform, eventually
from workflows.names import APPROVE_SIGNAL
from workflows.session_models import ROLE_MISSING, ApprovalDecision, SignalDecision


@pytest.fixture
async def rig(platform: Platform, tmp_path: Path) -> AsyncIterator[ApprovalRig]:
    markers = tmp_path / "markers"
    markers.mkdir()
    rig = ApprovalRig(platform, markers)
    yield rig
    await rig.stop_all()


async def still_waiting(rig: ApprovalRig, session: Session, step: str = "restart") -> None:
    """Nothing was decided: the session still waits for `step`, which did not run."""
    state = await rig.state(session)
    assert state.pending is not None and state.pending.step == step
    assert state.status == "waiting_approval"
    found = state.step(step)
    assert found is not None and found.approved_by is None and found.status == "waiting_approval"
    assert not session.ran(step)


async def test_a_gated_step_waits_and_is_listed_for_its_org_only(rig: ApprovalRig) -> None:
    session = await rig.start()
    elsewhere = await rig.start(org=rig.other_org)
    assert session.ran("drain") and not session.ran("restart")

    [item] = await rig.listed({session.id})
    requested_at = datetime.fromisoformat(item["requested_at"])
    deadline = datetime.fromisoformat(item["deadline"])
    assert deadline - requested_at == timedelta(hours=4)
    assert {k: v for k, v in item.items() if k not in ("requested_at", "deadline")} == {
        "session_id": session.id,
        "incident_id": session.incident_id,
        "runbook_id": RUNBOOK_ID,
        "step": "restart",
        "roles": ["SRE_LEAD"],
        "escalated": False,
        "requester": REQUESTER,
        "can_decide": True,
        "approve_url": session.url("restart", "approve"),
        "reject_url": session.url("restart", "reject"),
        "command": f"touch {session.dir}/restart.ran",  # as it will run
        "host": None,
        "target_rule": "test: local",
        "confidence": 1.0,
    }
    # The requester, and a caller without the role, see it but may not decide it.
    [own] = await rig.pending(REQUESTER, "SRE_LEAD")
    [viewer] = await rig.pending("vic", "VIEWER")
    assert (own["can_decide"], viewer["can_decide"]) == (False, False)
    # The other org sees its own session only.
    [theirs] = await rig.listed({elsewhere.id}, org=rig.other_org)
    assert theirs["session_id"] == elsewhere.id

    assert (await rig.http.get("/v1/approvals")).status_code == 401
    await still_waiting(rig, session)


async def test_approving_over_http_runs_the_step_and_the_session_goes_on(
    rig: ApprovalRig,
) -> None:
    session = await rig.start()

    response = await rig.decide(session, "restart")  # no body at all

    assert response.status_code == 200, response.text
    body = response.json()
    assert decision_shape(body) == (session.id, "restart", True, APPROVER)
    assert set(body) == {"session_id", "step", "approved", "approver", "decided_at"}
    await eventually(lambda: _true(session.ran("restart")))
    state = await rig.waiting(session, "flush")
    restart = state.step("restart")
    assert restart is not None and restart.status == "succeeded"
    assert (restart.approved_by, restart.approval_note) == (APPROVER, None)
    [item] = await rig.listed({session.id})
    assert item["step"] == "flush"

    flushed = await rig.decide(session, "flush", body={"note": "all good"})

    assert flushed.status_code == 200, flushed.text
    state = await rig.finished(session)
    assert state.status == "completed" and session.ran("flush")
    flush = state.step("flush")
    assert flush is not None and flush.approval_note == "all good"
    await rig.listed(set())


async def test_rejecting_with_a_note_rolls_the_session_back(rig: ApprovalRig) -> None:
    session = await rig.start()
    await rig.listed({session.id})

    response = await rig.decide(session, "restart", "reject", body={"note": "not at peak"})

    assert response.status_code == 200, response.text
    assert decision_shape(response.json()) == (session.id, "restart", False, APPROVER)
    state = await rig.finished(session)
    assert state.status == "rolled_back"
    restart = state.step("restart")
    assert restart is not None and restart.status == "rejected"
    assert (restart.approved_by, restart.approval_note) == (APPROVER, "not at peak")
    assert [(r.step, r.status) for r in state.rollbacks] == [("drain", "undone")]
    assert session.undone("drain") and not session.ran("restart")
    await rig.listed(set())


async def test_refused_decisions_say_why_and_change_nothing(rig: ApprovalRig) -> None:
    session = await rig.start()
    mine = await rig.start(requester=APPROVER)
    theirs = await rig.start(org=rig.other_org)

    refusals = [
        (session, "restart", rig.headers("vic", "VIEWER"), 403,
         "deciding step 'restart' needs one of the roles SRE_LEAD; vic has VIEWER"),
        (mine, "restart", rig.headers(), 403,
         f"{APPROVER} started this session and cannot decide its steps"),
        (session, "flush", rig.headers(), 404,
         "step 'flush' is not waiting for an approval; step 'restart' is waiting for an "
         "approval"),
        (session, "nope", rig.headers(), 404,
         "step 'nope' is not waiting for an approval; step 'restart' is waiting for an "
         "approval"),
        (theirs, "restart", rig.headers(), 404,
         f"runbook session '{theirs.id}' not found; GET /v1/sessions lists them"),
        # Another org learns nothing of the session, not even which steps it has.
        (theirs, "nope", rig.headers(), 404,
         f"runbook session '{theirs.id}' not found; GET /v1/sessions lists them"),
    ]  # fmt: skip
    for target, step, headers, status_code, detail in refusals:
        for verb in ("approve", "reject"):
            response = await rig.decide(target, step, verb, headers=headers)
            assert (response.status_code, response.json()) == (status_code, {"detail": detail})

    unknown = await rig.http.post(
        f"/v1/sessions/{rig.org}:nope:runbook:x:1/steps/restart/approve", headers=rig.headers()
    )
    assert unknown.status_code == 404
    assert "not found; GET /v1/sessions lists them" in unknown.json()["detail"]

    too_long = await rig.decide(session, "restart", body={"note": "n" * 2001})
    assert too_long.status_code == 422
    assert problems(too_long).startswith("body.note: String should have at most 2000")
    extra = await rig.decide(session, "restart", body={"notes": "typo"})
    assert (extra.status_code, problems(extra)) == (
        422,
        "body.notes: Extra inputs are not permitted",
    )

    await still_waiting(rig, session)
    await still_waiting(rig, mine)
    await still_waiting(rig, theirs)
    state = await rig.state(session)
    assert state.refusals == []  # refused Updates leave no trace in the session
    # ...and the step can still be decided.
    assert (await rig.decide(session, "restart")).status_code == 200


async def test_deciding_twice_or_after_the_end_is_a_conflict(rig: ApprovalRig) -> None:
    session = await rig.start()
    assert (await rig.decide(session, "restart", body={"note": "first"})).status_code == 200
    await rig.waiting(session, "flush")

    twice = await rig.decide(session, "restart", "reject", body={"note": "second"})

    assert (twice.status_code, twice.json()) == (
        409,
        {"detail": f"step 'restart' was already approved by {APPROVER}"},
    )
    restart = (await rig.state(session)).step("restart")
    assert restart is not None and (restart.status, restart.approval_note) == (
        "succeeded",
        "first",
    )

    assert (await rig.decide(session, "flush")).status_code == 200
    # Its state says finished before the outcome is recorded: wait for the run to close.
    await rig.handle(session).result()
    after = await rig.decide(session, "flush")
    assert (after.status_code, after.json()) == (
        409,
        {"detail": "session is over (completed); nothing to decide"},
    )

    terminated = await rig.start()
    await rig.handle(terminated).terminate("test")
    late = await rig.decide(terminated, "restart")
    assert (late.status_code, late.json()) == (
        409,
        {"detail": "session is over (terminated); nothing to decide"},
    )
    assert not terminated.ran("restart")


async def test_an_update_that_reaches_an_ended_session_finds_no_open_session(
    rig: ApprovalRig,
) -> None:
    """Temporal answers an Update to an ended workflow with an RPC error, not a refusal:
    the service then looks the session up to say how it ended (409 above)."""
    session = await rig.start()
    await rig.handle(session).terminate("ended meanwhile")
    decision = ApprovalDecision(
        step="restart", approve=True, approver=APPROVER, approver_roles=["SRE_LEAD"]
    )

    with pytest.raises(NoOpenSession):
        await send_decision(rig.handle(session), decision)
    assert not session.ran("restart")


async def test_a_session_that_cannot_answer_is_not_listed_and_its_decision_is_unavailable(
    rig: ApprovalRig,
) -> None:
    """A session whose worker is gone: the list does not hang on it, nor does a decision."""
    session = await rig.start()
    nobody = ApprovalService(
        rig.platform.client, rig.platform.settings, rpc_timeout=timedelta(seconds=1)
    )
    await rig.listed({session.id})
    orphan = await rig.start_unserved()

    [item] = await nobody.pending(rig.org, _Caller(APPROVER, frozenset({"SRE_LEAD"})))

    assert item.session_id == session.id
    bob = _Caller(APPROVER, frozenset({"SRE_LEAD"}))
    with pytest.raises(SessionUnreachableError, match="did not answer in time"):
        await nobody.decide(rig.org, orphan.id, "restart", True, bob)
    # In a batch it is that one decision's 503; the others are decided.
    batch = [
        DecisionRequest(orphan.id, "restart", True),
        DecisionRequest(session.id, "restart", True),
    ]
    stuck, decided = await nobody.decide_many(rig.org, batch, bob)
    assert stuck.status_code == 503 and "did not answer in time" in (stuck.detail or "")
    assert decided.status_code == 200 and decided.decision is not None
    await eventually(lambda: _true(session.ran("restart")))


async def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(
    rig: ApprovalRig,
) -> None:
    session = await rig.start()
    keyed = rig.headers(key="approve-1")

    first = await rig.decide(session, "restart", headers=keyed, body={"note": "go"})
    await rig.waiting(session, "flush")
    replay = await rig.decide(session, "restart", headers=keyed, body={"note": "go"})
    fresh = await rig.decide(session, "restart", body={"note": "go"})

    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    assert (replay.status_code, replay.json()) == (200, first.json())
    assert replay.headers["idempotent-replayed"] == "true"
    assert fresh.status_code == 409  # without the key, the same request is a conflict now

    other_caller = rig.headers("carol", key="approve-1")
    for verb, headers, note in (
        ("approve", keyed, "stop"),  # another body
        ("reject", keyed, "go"),  # another path
        ("approve", other_caller, "go"),  # another caller
    ):
        response = await rig.decide(session, "restart", verb, headers=headers, body={"note": note})
        assert (response.status_code, response.json()) == (
            422,
            {
                "detail": "Idempotency-Key 'approve-1' was already used for a different "
                "request; use a new key for a new request"
            },
        )
    # Another org's key of the same name is another key: its answer is its own 404.
    theirs = await rig.decide(
        session, "restart", headers=rig.headers(org=rig.other_org, key="approve-1")
    )
    assert theirs.status_code == 404 and "idempotent-replayed" not in theirs.headers

    # A final refusal is kept too.
    viewer = rig.headers("vic", "VIEWER", key="viewer-1")
    refused = await rig.decide(session, "flush", headers=viewer)
    refused_again = await rig.decide(session, "flush", headers=viewer)
    assert refused.status_code == 403
    assert (refused_again.status_code, refused_again.json()) == (403, refused.json())
    assert refused_again.headers["idempotent-replayed"] == "true"

    state = await rig.state(session)
    restart = state.step("restart")
    assert restart is not None and (restart.approved_by, restart.approval_note) == (
        APPROVER,
        "go",
    )
    await still_waiting(rig, session, "flush")
    assert await _kept_keys(rig) == {
        (rig.org, "approve-1", 200),
        (rig.org, "viewer-1", 403),
        (rig.other_org, "approve-1", 404),
    }


async def test_a_malformed_idempotency_key_is_a_bad_request_and_nothing_happens(
    rig: ApprovalRig,
) -> None:
    session = await rig.start()
    for key in ("k" * 256, ""):
        response = await rig.decide(session, "restart", headers=rig.headers(key=key))
        assert response.status_code == 400
        assert response.json()["detail"].startswith(
            "Idempotency-Key must be 1 to 255 printable ASCII characters"
        )
    non_ascii = {**rig.headers(), "Idempotency-Key": "clé".encode()}
    response = await rig.http.post(session.url("restart"), headers=non_ascii)
    assert response.status_code == 400
    await still_waiting(rig, session)
    assert await _kept_keys(rig) == set()


async def test_deciding_several_at_once_reports_each_and_applies_only_the_good_ones(
    rig: ApprovalRig,
) -> None:
    good = await rig.start()
    unknown_step = await rig.start()
    own = await rig.start(requester=APPROVER)
    body = {
        "decisions": [
            {"session_id": good.id, "step": "restart", "approve": True, "note": "go"},
            {"session_id": unknown_step.id, "step": "nope", "approve": True, "note": None},
            {"session_id": own.id, "step": "restart", "approve": False},
        ]
    }

    keyed = rig.headers(key="batch-1")
    response = await rig.http.post("/v1/approvals/decide", headers=keyed, json=body)
    replay = await rig.http.post("/v1/approvals/decide", headers=keyed, json=body)

    assert response.status_code == 200, response.text
    assert (replay.status_code, replay.json()) == (200, response.json())
    assert replay.headers["idempotent-replayed"] == "true"
    results = response.json()["results"]
    assert [(r["session_id"], r["step"], r["status_code"]) for r in results] == [
        (good.id, "restart", 200),
        (unknown_step.id, "nope", 404),
        (own.id, "restart", 403),
    ]
    assert (results[0]["approved"], results[0]["approver"], results[0]["detail"]) == (
        True,
        APPROVER,
        None,
    )
    assert results[0]["decided_at"] is not None
    assert results[1]["detail"].startswith("step 'nope' is not waiting for an approval")
    assert results[2]["detail"] == f"{APPROVER} started this session and cannot decide its steps"
    assert all(r["approved"] is None for r in results[1:])

    await eventually(lambda: _true(good.ran("restart")))
    await still_waiting(rig, unknown_step)
    await still_waiting(rig, own)


async def test_a_batch_must_hold_1_to_50_decisions(rig: ApprovalRig) -> None:
    session = await rig.start()
    one = {"session_id": session.id, "step": "restart", "approve": True}
    for decisions, detail in (
        ([], "body.decisions: List should have at least 1 item after validation, not 0"),
        ([one] * 51, "body.decisions: List should have at most 50 items after validation, not 51"),
        ([{**one, "approve": "yes"}], "body.decisions.0.approve: Input should be a valid boolean"),
    ):  # fmt: skip
        response = await rig.http.post(
            "/v1/approvals/decide", headers=rig.headers(), json={"decisions": decisions}
        )
        assert (response.status_code, problems(response)) == (422, detail)
    await still_waiting(rig, session)


async def test_a_signal_still_decides_and_a_refused_one_is_recorded(rig: ApprovalRig) -> None:
    session = await rig.start()
    handle = rig.handle(session)

    await handle.signal(
        APPROVE_SIGNAL, SignalDecision(step="restart", approver="vic", roles=["VIEWER"])
    )

    state = await eventually(lambda: _with_refusals(rig, session))
    [refusal] = state.refusals
    assert (refusal.step, refusal.approver, refusal.approve, refusal.error) == (
        "restart",
        "vic",
        True,
        ROLE_MISSING,
    )
    await still_waiting(rig, session)

    await handle.signal(
        APPROVE_SIGNAL, SignalDecision(step="restart", approver=APPROVER, roles=["SRE_LEAD"])
    )
    await eventually(lambda: _true(session.ran("restart")))
    restart = (await rig.waiting(session, "flush")).step("restart")
    assert restart is not None and restart.approved_by == APPROVER


# --- helpers ---------------------------------------------------------------------------


class _Caller:
    def __init__(self, sub: str, roles: frozenset[str]) -> None:
        self.sub = sub
        self.roles = roles


async def _true(value: bool) -> bool:
    return value


async def _with_refusals(rig: ApprovalRig, session: Session) -> object:
    state = await rig.state(session)
    return state if state.refusals else None


async def _kept_keys(rig: ApprovalRig) -> set[tuple[str, str, int | None]]:
    async with rig.platform.db.read_session() as session:
        rows = await session.scalars(select(IdempotencyKeyModel))
        return {(row.org_id, row.key, row.status_code) for row in rows}
