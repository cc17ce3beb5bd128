"""Where the machine's CPU goes during a load phase, by process group, from /proc.

A sampler thread reads every process's utime + stime twice a second and keeps, per pid, the
first and the last value it saw, so a process that exits during the phase (a gunicorn worker
recycled after ``max_requests``, a PostgreSQL backend) still counts up to its last sample and
one that starts counts from its first. Groups: the gunicorn workers and master, the Huey
consumer, PostgreSQL (every ``postgres`` process: backends, WAL writer, checkpointer …), Redis,
the load generator; "other" is the rest of the machine's busy time (``/proc/stat``), which
includes this sampler and whatever else runs on a shared host.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
#: ``classify(pid, parent pid, command name)`` → group name, or None for "other".
Classify = Callable[[int, int, str], str | None]
GROUPS = ("web workers", "PostgreSQL", "Huey worker", "Redis", "load generator", "other")


def _machine_busy_ticks() -> int:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]) - idle


def _processes() -> dict[int, tuple[str, int, int]]:
    """pid → (command name, parent pid, utime + stime in ticks)."""
    out: dict[int, tuple[str, int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        rest = stat[stat.rindex(")") + 2 :].split()
        out[int(entry.name)] = (comm, int(rest[1]), int(rest[11]) + int(rest[12]))
    return out


class CpuSampler:
    """``with CpuSampler(classify) as s: ...`` then ``s.result(requests)``.

    ``classify(pid, parent pid, comm)`` names the group of a process, or None for "other"; it is
    asked once per process."""

    def __init__(self, classify: Classify, interval: float = 0.5) -> None:
        self.classify = classify
        self.interval = interval
        self.group: dict[int, str | None] = {}
        self.first: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for pid, (comm, ppid, ticks) in _processes().items():
            if pid not in self.group:
                self.group[pid] = self.classify(pid, ppid, comm)
                self.first[pid] = ticks
            self.last[pid] = ticks

    def _run(self) -> None:
        while not self.stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> CpuSampler:
        self.started = time.monotonic()
        self.busy0 = _machine_busy_ticks()
        self._sample()
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        self._sample()
        self.busy1 = _machine_busy_ticks()
        self.wall_s = time.monotonic() - self.started

    def result(self, requests: int) -> dict:
        """CPU seconds per group over the sampled window (the load generator's start and end
        included: the server is idle then, so its per-request figures are not inflated)."""
        seconds = dict.fromkeys(GROUPS, 0.0)
        for pid, end in self.last.items():
            group = self.group[pid]
            if group is not None:
                seconds[group] += (end - self.first[pid]) / TICK
        busy = (self.busy1 - self.busy0) / TICK
        seconds["other"] = max(busy - sum(seconds.values()), 0.0)
        return {
            "busy_cpu_s": round(busy, 2),
            "wall_s": round(self.wall_s, 2),
            "busy_cores": round(busy / self.wall_s, 2) if self.wall_s else None,
            "cpu_s": {k: round(v, 2) for k, v in seconds.items()},
            "share": {k: round(100 * v / busy, 1) if busy else None for k, v in seconds.items()},
            "ms_per_request": {
                k: round(1000 * v / requests, 2) if requests else None for k, v in seconds.items()
            },
        }
