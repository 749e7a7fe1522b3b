"""Timeouts, cancellation and kill_remote stop the remote process group over SSH."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from connectors.commands import CommandSpec, ConnectionLostError
from connectors.ssh import SshTarget, kill_remote, remote_process_alive, run_ssh
from tests.connectors.processes import Chunks, process_gone, wait_until

# Prints the pid of a background child, then waits for it: the child is in the group.
WITH_CHILD = "sleep 1000 & echo $!; wait"


async def test_a_timeout_kills_the_remote_command_and_its_children(
    ssh_target: SshTarget,
) -> None:
    result = await run_ssh(ssh_target, CommandSpec(WITH_CHILD, timeout_seconds=1, output_limit=100))

    assert result.timed_out
    assert result.exit_code is None
    child = int(result.stdout.split()[0])
    await wait_until(lambda: process_gone(child), "the remote child was killed")
    assert result.pid is not None
    await wait_until(lambda: process_gone(result.pid or 0), "the remote command was killed")


async def test_a_remote_command_ignoring_sigterm_is_killed_after_the_grace_period(
    ssh_target: SshTarget,
) -> None:
    command = "trap '' TERM; " + WITH_CHILD
    spec = CommandSpec(command, timeout_seconds=1, output_limit=100, kill_grace_seconds=0.2)

    result = await run_ssh(ssh_target, spec)

    assert result.timed_out
    child = int(result.stdout.split()[0])
    await wait_until(lambda: process_gone(child), "SIGKILL reached the remote child")


async def test_cancelling_kills_the_remote_process_group_and_reraises(
    ssh_target: SshTarget,
) -> None:
    chunks = Chunks()
    started: list[int] = []
    running = asyncio.create_task(
        run_ssh(
            ssh_target,
            CommandSpec(WITH_CHILD, timeout_seconds=600, output_limit=100),
            chunks,
            on_started=started.append,
        )
    )
    child = int(await chunks.first_line(running))
    assert not process_gone(child)

    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running

    await wait_until(lambda: process_gone(child), "the remote child was killed on cancel")
    await wait_until(lambda: process_gone(started[0]), "the remote command was killed")
    assert not await remote_process_alive(ssh_target, started[0])


async def test_kill_remote_stops_a_command_another_run_started(ssh_target: SshTarget) -> None:
    # As a retried activity would: only the PID from the first attempt is known.
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    running = asyncio.create_task(
        run_ssh(
            ssh_target,
            CommandSpec(WITH_CHILD, timeout_seconds=600, output_limit=100),
            on_started=started.set_result,
        )
    )
    pid = await started
    assert await remote_process_alive(ssh_target, pid)

    assert await kill_remote(ssh_target, pid) is True

    result = await running
    assert result.exit_code == 128 + 15  # the first run saw its command die of SIGTERM
    assert not result.timed_out
    assert not await remote_process_alive(ssh_target, pid)
    child = int(result.stdout.split()[0])
    await wait_until(lambda: process_gone(child), "the child was killed too")
    assert await kill_remote(ssh_target, pid) is False  # nothing left to stop


async def test_kill_remote_escalates_to_sigkill(ssh_target: SshTarget) -> None:
    chunks = Chunks()
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    running = asyncio.create_task(
        run_ssh(
            ssh_target,
            CommandSpec("trap '' TERM; " + WITH_CHILD, timeout_seconds=600, output_limit=100),
            chunks,
            on_started=started.set_result,
        )
    )
    pid = await started
    child = int(await chunks.first_line(running))

    assert await kill_remote(ssh_target, pid, grace_seconds=0.2) is True

    result = await running
    assert result.exit_code == 128 + 9
    await wait_until(lambda: process_gone(child), "SIGKILL reached the child")


@pytest.mark.parametrize("pid", [1, 0, -5])
async def test_a_pid_that_would_signal_everything_is_refused(
    ssh_target: SshTarget, pid: int
) -> None:
    with pytest.raises(ValueError, match="not a command's process id"):
        await kill_remote(ssh_target, pid)
    with pytest.raises(ValueError, match="not a command's process id"):
        await remote_process_alive(ssh_target, pid)


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


async def test_a_lost_connection_is_retryable_and_the_command_can_be_found_again(
    ssh_target: SshTarget,
) -> None:
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    running = asyncio.create_task(
        run_ssh(
            ssh_target,
            CommandSpec(WITH_CHILD, timeout_seconds=600, output_limit=100),
            on_started=started.set_result,
        )
    )
    pid = await started
    session = parent_of(pid)  # the sshd process serving this connection

    os.kill(session, signal.SIGKILL)

    with pytest.raises(ConnectionLostError) as caught:
        await running
    assert caught.value.retryable
    assert f"remote process group {pid} may still be running" in caught.value.message
    # A retry finds the command still running and can stop it instead of starting another.
    assert await remote_process_alive(ssh_target, pid)
    assert await kill_remote(ssh_target, pid) is True
    await wait_until(lambda: process_gone(pid), "the orphaned command was stopped")
