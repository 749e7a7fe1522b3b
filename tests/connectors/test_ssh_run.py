"""Commands over SSH against a real OpenSSH server: output, PID, env and cwd."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from connectors.commands import CommandSpec
from connectors.ssh import PID_MARKER, SshTarget, remote_process_alive, run_ssh
from tests.connectors.processes import Chunks, process_gone, wait_until


def spec(command: str, **changes: object) -> CommandSpec:
    values: dict[str, object] = {"timeout_seconds": 60, "output_limit": 10_000, **changes}
    return CommandSpec(command, **values)  # type: ignore[arg-type]


async def test_exit_code_and_both_streams_come_back(ssh_target: SshTarget) -> None:
    result = await run_ssh(ssh_target, spec("echo out; echo err >&2; exit 3"))

    assert result.exit_code == 3
    assert (result.stdout, result.stderr) == ("out\n", "err\n")
    assert not (result.timed_out or result.cancelled)
    assert result.host == ssh_target.host


async def test_the_pid_marker_is_reported_and_never_shown_as_output(
    ssh_target: SshTarget,
) -> None:
    started: list[int] = []
    chunks = Chunks()

    result = await run_ssh(ssh_target, spec("echo $$"), chunks, on_started=started.append)

    assert started == [result.pid]
    assert result.stdout == f"{result.pid}\n"  # the command is the reported process
    assert PID_MARKER not in chunks.text()
    assert PID_MARKER not in result.stdout


async def test_the_running_command_leads_its_own_process_group(
    ssh_target: SshTarget, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    running = asyncio.create_task(
        run_ssh(
            ssh_target,
            spec(f"sleep 1000 & while [ ! -e {gate} ]; do sleep 0.01; done; kill $!"),
            on_started=started.set_result,
        )
    )
    pid = await started

    # The server runs on this machine: the remote process is visible here.
    assert not process_gone(pid)
    assert os.getpgid(pid) == pid
    assert await remote_process_alive(ssh_target, pid)

    gate.touch()
    result = await running
    assert result.exit_code == 0
    await wait_until(lambda: process_gone(pid), "the command's process ended")
    assert not await remote_process_alive(ssh_target, pid)


async def test_output_reaches_the_callback_while_the_command_still_runs(
    ssh_target: SshTarget, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    seen: list[str] = []

    async def on_output(stream: str, text: str) -> None:
        seen.append(text)
        if "first" in text:
            gate.touch()  # the command waits for this before it goes on

    command = f"echo first; while [ ! -e {gate} ]; do sleep 0.01; done; echo second"
    result = await run_ssh(ssh_target, spec(command), on_output)

    assert not result.timed_out
    assert result.exit_code == 0
    assert seen == ["first\n", "second\n"]


async def test_only_the_tail_is_kept_and_flagged(ssh_target: SshTarget) -> None:
    chunks = Chunks()
    lines = 'i=0; while [ $i -lt 1000 ]; do echo "line $i"; i=$((i+1)); done'

    result = await run_ssh(ssh_target, spec(lines + "; echo e >&2", output_limit=30), chunks)

    everything = "".join(f"line {i}\n" for i in range(1000))
    assert result.stdout_truncated
    assert len(result.stdout.encode()) <= 30
    assert result.stdout.endswith("line 999\n") and everything.endswith(result.stdout)
    assert (result.stderr, result.stderr_truncated) == ("e\n", False)
    assert chunks.text() == everything


async def test_env_and_cwd_are_honoured_and_values_are_not_evaluated(
    ssh_target: SshTarget, tmp_path: Path
) -> None:
    injected = tmp_path / "injected"
    value = f'it\'s $(touch {injected}) `touch {injected}` "quoted" \\ end'

    result = await run_ssh(
        ssh_target,
        spec('printf "%s\\n" "$GREETING"; pwd', env={"GREETING": value}, cwd=str(tmp_path)),
    )

    assert result.stdout == f"{value}\n{tmp_path}\n"
    assert not injected.exists()


async def test_a_missing_working_directory_fails_the_command_without_running_it(
    ssh_target: SshTarget, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    missing = tmp_path / "no-such-dir"

    result = await run_ssh(ssh_target, spec(f"touch {marker}", cwd=str(missing)))

    assert result.exit_code == 1
    assert str(missing) in result.stderr
    assert not marker.exists()


async def test_a_command_killed_by_a_signal_reports_128_plus_the_signal(
    ssh_target: SshTarget,
) -> None:
    result = await run_ssh(ssh_target, spec("kill -TERM $$"))

    assert result.exit_code == 128 + 15
    assert not result.timed_out


async def test_a_command_reading_stdin_gets_end_of_file(ssh_target: SshTarget) -> None:
    result = await run_ssh(ssh_target, spec("cat; echo done"))

    assert (result.exit_code, result.stdout) == (0, "done\n")


@pytest.mark.parametrize(
    ("command", "stdout"), [("exit 0", ""), ("printf no-newline", "no-newline")]
)
async def test_little_or_unterminated_output_is_kept(
    ssh_target: SshTarget, command: str, stdout: str
) -> None:
    result = await run_ssh(ssh_target, spec(command))

    assert (result.exit_code, result.stdout) == (0, stdout)
