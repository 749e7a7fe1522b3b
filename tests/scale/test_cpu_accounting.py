"""bench/cpu.py: the CPU each role's processes used during a load, per request."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench import cpu

# Burns 0.3 s of CPU once told to, says so, then waits to be killed.
BUSY = """
import time
input()
end = time.process_time() + 0.3
while time.process_time() < end:
    pass
print("done", flush=True)
input()
"""


def test_a_busy_process_is_charged_to_its_role_and_an_idle_one_is_not() -> None:
    busy = subprocess.Popen(
        [sys.executable, "-c", BUSY], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    idle = subprocess.Popen(
        [sys.executable, "-c", "print('ready', flush=True); input()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert idle.stdout is not None and idle.stdout.readline() == "ready\n"  # started
        roles = cpu.roles({busy.pid: "api", idle.pid: "worker"})
        before = cpu.snapshot(roles)
        assert busy.stdin is not None and busy.stdout is not None
        busy.stdin.write("go\n")
        busy.stdin.flush()
        assert busy.stdout.readline() == "done\n"
        use = cpu.used_between(before, cpu.snapshot(roles), requests=100)
    finally:
        for process in (busy, idle):
            process.kill()
            process.wait()

    assert use.seconds["api"] >= 0.25  # counted in clock ticks
    assert use.seconds["worker"] < 0.05
    assert use.per_request_ms("api") == pytest.approx(1000 * use.seconds["api"] / 100)
    assert "load generator" in use.seconds  # this process


def test_the_ceiling_is_what_the_cores_allow_at_the_measured_cost() -> None:
    use = cpu.CpuUse({"api": 0.5, "worker": 0.3, "temporal": 0.2}, requests=100)

    assert use.total_ms == pytest.approx(10.0)
    assert use.ceiling(cores=2) == pytest.approx(200.0)
    assert use.line() == "CPU ms per request: api 5.00, temporal 2.00, worker 3.00; total 10.00"


def test_a_process_that_used_no_cpu_to_speak_of_is_left_out_of_the_line() -> None:
    use = cpu.CpuUse({"api": 0.5, "postgres": 0.001}, requests=100)

    assert use.line() == "CPU ms per request: api 5.00; total 5.01"


def test_merged_loads_add_up_their_cpu_and_requests() -> None:
    first = cpu.CpuUse({"api": 0.5}, requests=100)
    second = cpu.CpuUse({"api": 0.3, "worker": 0.1}, requests=60)

    total = cpu.merged([first, second])

    assert total.requests == 160
    assert total.seconds == pytest.approx({"api": 0.8, "worker": 0.1})
