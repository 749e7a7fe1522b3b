"""Where a benchmark's CPU goes: the CPU time each role's processes used during a load
(Linux /proc), per request, and the throughput the machine's cores allow at that cost.

On a machine with few cores every process of the platform shares them: the API, the
worker, the Temporal server, PostgreSQL and the load generator itself. A throughput
figure alone does not say which of them set it; the CPU per request does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
# A process's role, from its command line; None: not part of the measurement.
Classifier = Callable[[int, str], str | None]


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds by role over one load of `requests` requests."""

    seconds: Mapping[str, float]
    requests: int

    def per_request_ms(self, role: str) -> float:
        return 1000 * self.seconds.get(role, 0.0) / max(self.requests, 1)

    @property
    def total_ms(self) -> float:
        return sum(self.per_request_ms(role) for role in self.seconds)

    def ceiling(self, cores: int) -> float:
        """Requests per second all cores would allow, were they busy with nothing else."""
        return cores * 1000 / self.total_ms if self.total_ms else float("inf")

    def line(self) -> str:
        """The roles that used any CPU to speak of, and the total."""
        shown = [role for role in sorted(self.seconds) if self.per_request_ms(role) >= 0.05]
        parts = [f"{role} {self.per_request_ms(role):.2f}" for role in shown]
        return f"CPU ms per request: {', '.join(parts)}; total {self.total_ms:.2f}"


def roles(named: Mapping[int, str], *, own: str = "load generator") -> Classifier:
    """Processes named by pid, this process as `own`, the Temporal dev server as
    "temporal" and any PostgreSQL server process as "postgres"."""
    me = os.getpid()

    def classify(pid: int, command: str) -> str | None:
        if pid in named:
            return named[pid]
        if pid == me:
            return own
        if "temporal server start-dev" in command:
            return "temporal"
        if command.startswith("postgres") or "/bin/postgres " in command:
            return "postgres"
        return None

    return classify


def snapshot(classify: Classifier) -> dict[int, tuple[str, int]]:
    """Each classified process's role and CPU ticks so far (user + system)."""
    found: dict[int, tuple[str, int]] = {}
    for pid, command, ticks in _processes():
        role = classify(pid, command)
        if role is not None:
            found[pid] = (role, ticks)
    return found


def used_between(
    before: Mapping[int, tuple[str, int]], after: Mapping[int, tuple[str, int]], requests: int
) -> CpuUse:
    """CPU by role from `before` to `after`; a process that started in between counts whole."""
    seconds: dict[str, float] = {}
    for pid, (role, ticks) in after.items():
        spent = ticks - before.get(pid, (role, 0))[1]
        seconds[role] = seconds.get(role, 0.0) + spent / TICKS_PER_SECOND
    return CpuUse(seconds, requests)


def merged(uses: list[CpuUse]) -> CpuUse:
    seconds: dict[str, float] = {}
    for use in uses:
        for role, spent in use.seconds.items():
            seconds[role] = seconds.get(role, 0.0) + spent
    return CpuUse(seconds, sum(use.requests for use in uses))


def _processes() -> Iterator[tuple[int, str, int]]:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it ended meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()
        yield int(entry.name), command.strip(), int(fields[11]) + int(fields[12])
