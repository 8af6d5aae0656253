"""How much memory this machine has free: the one question bprop asks the operating system
before it allocates something large (a network's parameters).

:func:`available_bytes` reads Linux's ``MemAvailable`` (``/proc/meminfo``) and the limit of
the process's cgroup (a container's memory limit), falling back to ``os.sysconf``; it returns
None where none of them can be read, and callers then check only their documented caps.  It
never allocates, never raises, and knows nothing of networks, data or the command line.
"""

from __future__ import annotations

import os
from pathlib import Path

_MEMINFO = Path("/proc/meminfo")
_CGROUP_FILES = (
    # cgroup v2: the limit and what the group uses now
    (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory.current")),
    # cgroup v1
    (
        Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
        Path("/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ),
)


def available_bytes() -> int | None:
    """Bytes that can be allocated now without swapping, or None when this cannot be told."""
    free = [v for v in (_meminfo(), _cgroup_room()) if v is not None]
    if not free:
        free = [v for v in (_sysconf(),) if v is not None]
    return min(free) if free else None


def _meminfo() -> int | None:
    try:
        for line in _MEMINFO.read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        pass
    return None


def _cgroup_room() -> int | None:
    for limit_file, usage_file in _CGROUP_FILES:
        try:
            limit = limit_file.read_text(encoding="ascii").strip()
            usage = int(usage_file.read_text(encoding="ascii").strip())
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        if limit.isdigit() and int(limit) < 2**60:  # "max" or a huge v1 number: no limit
            return max(int(limit) - usage, 0)
    return None


def _sysconf() -> int | None:
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None
