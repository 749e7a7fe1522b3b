"""Timeouts and cancellation stop the whole process group of a local command."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from connectors.commands import CommandSpec
from connectors.local import run_local
from tests.connectors.processes import Chunks, process_gone, wait_until

# Prints the pid of a background child, then waits for it: the child is in the group.
WITH_CHILD = "sleep 1000 & echo $!; wait"


async def test_a_timeout_kills_the_command_and_its_children() -> None:
    result = await run_local(CommandSpec(WITH_CHILD, timeout_seconds=1, output_limit=1000))

    assert result.timed_out
    assert result.exit_code is None
    child = int(result.stdout.split()[0])
    assert result.pid is not None
    await wait_until(lambda: process_gone(child), "the background child was killed")
    await wait_until(lambda: process_gone(result.pid or 0), "the command was killed")


async def test_a_command_ignoring_sigterm_is_killed_after_the_grace_period() -> None:
    # `trap '' TERM` is inherited: neither the shell nor its child obeys SIGTERM.
    command = "trap '' TERM; " + WITH_CHILD
    spec = CommandSpec(command, timeout_seconds=1, output_limit=1000, kill_grace_seconds=0.2)

    result = await run_local(spec)

    assert result.timed_out
    child = int(result.stdout.split()[0])
    await wait_until(lambda: process_gone(child), "SIGKILL reached the child")


async def test_cancelling_kills_the_process_group_and_reraises() -> None:
    chunks = Chunks()
    running = asyncio.create_task(
        run_local(CommandSpec(WITH_CHILD, timeout_seconds=600, output_limit=1000), chunks)
    )
    child = int(await chunks.first_line(running))
    assert not process_gone(child)

    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running

    await wait_until(lambda: process_gone(child), "the child was killed on cancel")


async def test_a_background_daemon_outlives_a_command_that_ends_normally() -> None:
    # Starting a service in the background is legitimate: only timeouts and cancels kill.
    result = await run_local(
        CommandSpec("sleep 1000 >/dev/null 2>&1 & echo $!", timeout_seconds=60, output_limit=100)
    )
    daemon = int(result.stdout)
    try:
        assert result.exit_code == 0
        assert not process_gone(daemon)
    finally:
        os.kill(daemon, signal.SIGKILL)
