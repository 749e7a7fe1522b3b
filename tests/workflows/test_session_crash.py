"""A worker that stops while a step runs: the next worker does not run a non-idempotent
step a second time (the session rolls back); an idempotent one runs again."""

from __future__ import annotations

from pathlib import Path

from tests.workflows.sessions import SessionRig, eventually, rollback_view, running
from workflows.session_models import SessionState

CRASH = """
runbook:
  id: crash
  name: Crash
  consts: {log: "@LOG@", runs: "@DIR@/runs"}
  steps:
    - name: s1
      run: echo s1 >> {{ consts.log }}
      connector: local
      rollback: echo undo s1 >> {{ consts.log }}
    - name: once
      # Counts its runs; the first one hangs until its worker goes away.
      run: echo run >> {{ consts.runs }}; [ "$(wc -l < {{ consts.runs }})" -ge 2 ] || sleep 1000
      connector: local
      timeout: 1h
      idempotent: @IDEMPOTENT@
      rollback: echo undo once >> {{ consts.log }}
"""


async def stop_worker_mid_step(rig: SessionRig, idempotent: bool) -> tuple[SessionState, list[str]]:
    plan = rig.runbook(CRASH, idempotent="true" if idempotent else "false")
    runs = rig.dir / "runs"
    async with rig.worker():
        handle = await rig.start(plan, mode="auto", confidence=0.9)
        await running(handle, "once")
        await eventually(lambda: _has_lines(runs, 1))
    # That worker is gone; a new one takes the session over.
    async with rig.worker():
        final = await handle.result()
    return final, rig.lines(runs)


async def test_a_non_idempotent_step_is_not_run_again_after_its_worker_stopped(
    dev_rig: SessionRig,
) -> None:
    final, runs = await stop_worker_mid_step(dev_rig, idempotent=False)

    assert runs == ["run"]
    assert dev_rig.lines() == ["s1", "undo once", "undo s1"]
    assert final.status == "rolled_back"
    once = final.step("once")
    assert once is not None and once.status == "failed" and once.error is not None
    assert "step once may already have run (pid " in once.error
    assert "it is not marked idempotent" in once.error
    assert rollback_view(final) == [("once", "undone"), ("s1", "undone")]


async def test_an_idempotent_step_runs_again_after_its_worker_stopped(
    dev_rig: SessionRig,
) -> None:
    final, runs = await stop_worker_mid_step(dev_rig, idempotent=True)

    assert runs == ["run", "run"]
    assert dev_rig.lines() == ["s1"]
    assert final.status == "completed"


async def _has_lines(path: Path, count: int) -> bool:
    return path.exists() and len(path.read_text().splitlines()) >= count
