"""What /proc says about a process or a process group: resident memory and CPU time (Linux)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory (or its peak, VmHWM) in MiB, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def group_rss_mb(group: int) -> float:
    """The resident memory of every process in a process group (the dev server and any helper)."""
    return _total_rss_mb(pid for pid, _ in _members(group))


def tree_rss_mb(pid: int) -> float:
    """The resident memory of a process and of every process it started, and so on (the API and its renderer)."""
    return _total_rss_mb([pid, *descendants(pid)])


def _total_rss_mb(pids: Iterable[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += rss_mb(pid)
        except OSError:
            continue  # it ended while we looked
    return total


def descendants(pid: int) -> list[int]:
    """The processes `pid` started, those they started, and so on."""
    children: dict[int, list[int]] = {}
    for member, fields in _processes():
        children.setdefault(int(fields[1]), []).append(member)
    found, frontier = [], [pid]
    while frontier:
        frontier = [child for parent in frontier for child in children.get(parent, [])]
        found.extend(frontier)
    return found


def cpu_seconds(pid: int) -> float:
    """A process's user and system CPU time so far."""
    return _cpu_seconds(_stat_fields(Path(f"/proc/{pid}")))


def group_cpu_seconds(group: int) -> float:
    """User and system CPU time so far of every process in a process group."""
    return sum(_cpu_seconds(fields) for _, fields in _members(group))


def _cpu_seconds(fields: list[str]) -> float:
    """User and system time from /proc/<pid>/stat's fields after the command name."""
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _members(group: int) -> Iterator[tuple[int, list[str]]]:
    """(pid, the /proc/<pid>/stat fields after the command name) of each process in the group."""
    return ((pid, fields) for pid, fields in _processes() if int(fields[2]) == group)


def _processes() -> Iterator[tuple[int, list[str]]]:
    """(pid, the /proc/<pid>/stat fields after the command name: state, parent, group, ...) of every process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat_fields(entry)
        except OSError:
            continue  # it ended while we looked
        yield int(entry.name), fields


def _stat_fields(process: Path) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses)."""
    return (process / "stat").read_text().rsplit(")", 1)[1].split()
