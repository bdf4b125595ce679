"""How long an audit took, and on what: each section's wall time, the total, and the machine it ran on.

The load average is recorded too: on a shared machine it says how much of the time was spent waiting.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from typing import Any

from overseer.report.sections import Section, Table


def machine_info() -> dict[str, Any]:
    """CPU count (and how many this process may use), torch's thread count, the GPU if any, the load average."""
    import torch

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"cpus": os.cpu_count(), "cpus_usable": usable, "torch_threads": torch.get_num_threads(),
            "gpu": gpu, "platform": f"{platform.system()} {platform.machine()}", "python": platform.python_version(),
            "torch": torch.__version__, "load_average_1m": None if load is None else round(load[0], 2)}


def machine_line(machine: dict[str, Any]) -> str:
    """`2 CPUs (2 usable), torch 2 threads, no GPU, load 3.1 at start`."""
    usable = machine.get("cpus_usable")
    cpus = f"{machine.get('cpus')} CPUs" + (f" ({usable} usable)" if usable != machine.get("cpus") else "")
    gpu = f"GPU {machine['gpu']}" if machine.get("gpu") else "no GPU"
    load = machine.get("load_average_1m")
    return (f"{cpus}, torch {machine.get('torch_threads')} threads, {gpu}, {machine.get('platform')}"
            + ("" if load is None else f", load average {load:g} at start"))


def duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s`, `1 h 02 min`."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def total_line(sections: Sequence[Section], total_seconds: float, machine: dict[str, Any], quick: bool) -> str:
    """One sentence: how long the whole audit took, in which mode, on this machine."""
    mode = "quick" if quick else "--full"
    return (f"{len(sections)} section(s), {mode} audit: {duration(total_seconds)} in all "
            f"(sections {duration(sum(s.seconds for s in sections))}) on {machine_line(machine)}")


def timing_table(sections: Sequence[Section], total_seconds: float,
                 cpu_seconds: dict[str, float] | None = None) -> Table:
    """Each section's wall time, share of the total and (if given) process CPU time; the last row is the total.

    CPU time over wall time near the torch thread count means the section had the cores to itself; much lower
    means it waited (a loaded machine, or I/O)."""
    total = max(total_seconds, 1e-9)
    cpu = cpu_seconds or {}
    rows = [[s.title, s.status, round(s.seconds, 1), duration(s.seconds), f"{s.seconds / total:.0%}",
             round(cpu[s.key], 1) if s.key in cpu else ""] for s in sections]
    rows.append(["total (wall clock)", "", round(total_seconds, 1), duration(total_seconds), "100%",
                 round(sum(cpu.values()), 1) if cpu else ""])
    return Table("How long each section took", ["section", "status", "seconds", "time", "share", "CPU seconds"],
                 rows)
