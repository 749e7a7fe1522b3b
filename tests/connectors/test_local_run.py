"""The local connector runs /bin/sh -c on this machine: exit codes, output, env and cwd."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from connectors.commands import CommandConnectorError, CommandSpec
from connectors.local import run_local
from tests.connectors.processes import Chunks, process_gone, wait_until


def spec(command: str, **changes: object) -> CommandSpec:
    values: dict[str, object] = {"timeout_seconds": 60, "output_limit": 10_000, **changes}
    return CommandSpec(command, **values)  # type: ignore[arg-type]


async def test_exit_code_and_both_streams_are_captured() -> None:
    result = await run_local(spec("echo out; echo err >&2; exit 7"))

    assert result.exit_code == 7
    assert not result.succeeded
    assert (result.stdout, result.stderr) == ("out\n", "err\n")
    assert not (result.stdout_truncated or result.stderr_truncated)
    assert not (result.timed_out or result.cancelled)
    assert result.host == "localhost"
    assert result.pid is not None and result.pid > 1


async def test_success_is_exit_code_zero() -> None:
    result = await run_local(spec("true"))

    assert (result.exit_code, result.succeeded) == (0, True)


async def test_a_command_killed_by_a_signal_reports_128_plus_the_signal() -> None:
    result = await run_local(spec("kill -TERM $$"))

    assert result.exit_code == 128 + 15
    assert not result.timed_out


async def test_only_the_tail_is_kept_and_flagged_but_every_chunk_is_streamed() -> None:
    chunks = Chunks()
    lines = 'i=0; while [ $i -lt 1000 ]; do echo "line $i"; i=$((i+1)); done'

    result = await run_local(spec(lines + "; echo short >&2", output_limit=30), chunks)

    everything = "".join(f"line {i}\n" for i in range(1000))
    assert result.stdout_truncated
    assert len(result.stdout.encode()) <= 30
    assert everything.endswith(result.stdout)
    assert result.stdout.endswith("line 999\n")
    assert (result.stderr, result.stderr_truncated) == ("short\n", False)
    assert chunks.text("stdout") == everything


async def test_a_tail_cut_inside_a_character_drops_the_broken_character() -> None:
    # 100 two-byte characters; an 11-byte tail starts in the middle of one.
    result = await run_local(spec("printf 'é%.0s' $(seq 100)", output_limit=11))

    assert result.stdout == "é" * 5
    assert result.stdout_truncated


async def test_output_reaches_the_callback_while_the_command_still_runs(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    seen: list[tuple[str, str]] = []

    async def on_output(stream: str, text: str) -> None:
        seen.append((stream, text))
        if "first" in text:
            gate.touch()  # the command waits for this before it goes on

    command = f"echo first; while [ ! -e {gate} ]; do sleep 0.01; done; echo second"
    result = await run_local(spec(command), on_output)

    assert not result.timed_out
    assert result.exit_code == 0
    assert [text for _, text in seen] == ["first\n", "second\n"]
    assert {stream for stream, _ in seen} == {"stdout"}


async def test_on_started_gets_the_pid_of_the_running_command(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    started: list[int] = []

    def on_started(pid: int) -> None:
        started.append(pid)
        assert not process_gone(pid)
        gate.touch()

    result = await run_local(
        spec(f"while [ ! -e {gate} ]; do sleep 0.01; done"), on_started=on_started
    )

    assert started == [result.pid]
    assert result.exit_code == 0


async def test_env_and_cwd_are_honoured_and_values_are_not_evaluated(tmp_path: Path) -> None:
    injected = tmp_path / "injected"
    value = f"it's $(touch {injected}) `touch {injected}`"

    result = await run_local(
        spec('printf "%s\\n" "$GREETING"; pwd', env={"GREETING": value}, cwd=str(tmp_path))
    )

    assert result.stdout == f"{value}\n{tmp_path}\n"
    assert not injected.exists()


async def test_the_worker_environment_does_not_leak_into_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FIRELINE_SECRET_KEY", "do-not-print")

    result = await run_local(spec("env"))

    assert "do-not-print" not in result.stdout
    names = {line.split("=", 1)[0] for line in result.stdout.splitlines()}
    assert {"PATH", "HOME", "USER", "LANG"} <= names


async def test_env_overrides_the_base_environment() -> None:
    result = await run_local(spec('echo "$PATH"', env={"PATH": "/opt/tools/bin:/usr/bin"}))

    assert result.stdout == "/opt/tools/bin:/usr/bin\n"


async def test_a_missing_working_directory_is_a_clear_final_error(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    missing = tmp_path / "no-such-dir"

    with pytest.raises(CommandConnectorError) as caught:
        await run_local(spec(f"touch {marker}", cwd=str(missing)))

    assert not caught.value.retryable
    assert str(missing) in caught.value.message
    assert "working directory" in caught.value.message
    assert not marker.exists()


async def test_a_failing_callback_stops_the_command_and_propagates() -> None:
    child: list[int] = []

    def on_output(stream: str, text: str) -> None:
        child.append(int(text.split()[0]))
        raise RuntimeError("publisher is down")

    with pytest.raises(RuntimeError, match="publisher is down"):
        await run_local(spec("sleep 1000 & echo $!; wait"), on_output)

    await wait_until(lambda: process_gone(child[0]), "the command's child was stopped")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"command": "  "}, "command is empty"),
        ({"timeout_seconds": 0}, "timeout_seconds must be > 0"),
        ({"output_limit": -1}, "output_limit must be >= 0"),
        ({"kill_grace_seconds": -1}, "kill_grace_seconds must be >= 0"),
        ({"env": {"BAD-NAME": "x", "OK": "y"}}, r"\['BAD-NAME'\]"),
    ],
)
def test_a_bad_spec_is_refused_with_the_reason(changes: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"command": "true", "timeout_seconds": 1, "output_limit": 10}
    with pytest.raises(ValueError, match=message):
        CommandSpec(**{**values, **changes})  # type: ignore[arg-type]


async def test_independent_commands_run_concurrently(tmp_path: Path) -> None:
    # Each command waits for the other's file: they finish only if both run at once.
    a, b = tmp_path / "a", tmp_path / "b"
    first = run_local(spec(f"touch {a}; while [ ! -e {b} ]; do sleep 0.01; done"))
    second = run_local(spec(f"touch {b}; while [ ! -e {a} ]; do sleep 0.01; done"))

    results = await asyncio.gather(first, second)

    assert [r.exit_code for r in results] == [0, 0]
