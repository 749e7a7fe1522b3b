"""A session whose target is an SSH connection: the worker resolves it through the
connection store (encrypted credential) and runs steps and rollbacks on a real sshd."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.secretbox import SecretBox
from services.connections import ConnectionService, ConnectionSpec, Credential
from tests.fakes.sshd import OpenSshServer, require_sshd
from tests.workflows.sessions import ORG, SessionRig, rollback_view
from workflows.session_models import SessionTarget

OVER_SSH = """
runbook:
  id: over-ssh
  name: Over SSH
  consts: {log: "@LOG@"}
  target: {connection: "{{ incident.ci }}"}
  steps:
    - name: s1
      run: echo s1 on {{ target.host }} $FIRELINE_STEP >> {{ consts.log }}
      rollback: echo undo s1 >> {{ consts.log }}
    - name: s2
      run: echo s2 >> {{ consts.log }}; exit 9
"""


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenSshServer]:
    require_sshd()
    with OpenSshServer(tmp_path_factory.mktemp("sshd")) as server:
        yield server


async def test_steps_and_rollbacks_run_on_the_target_over_ssh(
    ts_rig: SessionRig, sshd: OpenSshServer
) -> None:
    # The worker decrypts with the same key as the API: the data dir's secret key.
    connections = ConnectionService(ts_rig.db, SecretBox(ts_rig.settings.effective_secret_key()))
    spec = ConnectionSpec(
        kind="ssh",
        host=sshd.host,
        port=sshd.port,
        username=sshd.username,
        host_key=sshd.host_public_key,
    )
    credential = Credential(kind="private_key", secret=sshd.client_private_key)
    await connections.create(org_id=ORG, name="web-1", spec=spec, credential=credential)
    target = SessionTarget(connection="web-1", host=sshd.host, rule="runbook target: incident.ci")

    async with ts_rig.worker():
        handle = await ts_rig.start(
            ts_rig.runbook(OVER_SSH), target=target, mode="auto", confidence=0.9
        )
        final = await handle.result()

    assert ts_rig.lines() == [f"s1 on {sshd.host} s1", "s2", "undo s1"]
    assert final.status == "rolled_back"
    s2 = final.step("s2")
    assert s2 is not None and s2.exit_code == 9 and s2.host is not None
    assert sshd.host in s2.host
    assert rollback_view(final) == [("s1", "undone"), ("s2", "no_rollback")]
    assert final.target.rule == "runbook target: incident.ci"


async def test_an_unknown_connection_fails_the_step_without_retrying(ts_rig: SessionRig) -> None:
    target = SessionTarget(connection="nowhere", host="10.0.0.1", rule="test")
    async with ts_rig.worker():
        handle = await ts_rig.start(
            ts_rig.runbook(OVER_SSH), target=target, mode="auto", confidence=0.9
        )
        final = await handle.result()

    assert ts_rig.lines() == []
    s1 = final.step("s1")
    assert s1 is not None and s1.status == "failed" and s1.error is not None
    assert "no connection 'nowhere'" in s1.error
    assert s1.attempts == 0
    # s1 may have started as far as the worker knows: its rollback was registered and ran
    # (over the same unknown connection, so it failed and says so).
    assert rollback_view(final) == [("s1", "failed")]
    assert final.status == "rollback_failed"
