"""Run one bwrap argv with a wall-clock timeout, an output cap and a workspace quota.

The process is driven with plain `subprocess.Popen` and threads rather than asyncio's subprocess
support: in a full test run, asyncio once never saw a killed sandbox exit and the eval hung. On Python
3.11 asyncio learns of a child's exit through a process-wide child watcher that other code can replace;
`Popen.wait` asks the kernel about its own pid and does not depend on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from overseer.sandbox.paths import tree_bytes


@dataclass
class RunOutcome:
    returncode: int
    stdout: bytes
    stderr: bytes
    timed_out: bool = False
    output_exceeded: bool = False
    quota_exceeded: bool = False


async def run_limited(
    argv: list[str],
    stdin: bytes | None,
    timeout_s: float,
    output_bytes: int,
    workspace: Path,
    quota_bytes: int,
    poll_s: float,
    host_uid: int | None = None,
) -> RunOutcome:
    """Run `argv`; kill its whole process group (and so the sandbox) on any limit or on cancellation."""
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
        # bwrap's own reaper (PID 1 inside) keeps the environment bwrap started with, readable at
        # /proc/1/environ: --clearenv only clears the command's. So bwrap gets none of the host's.
        env={"PATH": "/usr/bin:/bin"},
        **({"user": host_uid, "group": host_uid, "extra_groups": []} if host_uid is not None else {}),
    )
    try:
        return await asyncio.to_thread(_supervise, proc, stdin, timeout_s, output_bytes, workspace, quota_bytes,
                                       poll_s)
    finally:
        if proc.poll() is None:  # cancelled: the supervising thread ends once the sandbox is gone
            _kill(proc)


def _supervise(proc: subprocess.Popen, stdin: bytes | None, timeout_s: float, output_bytes: int,
               workspace: Path, quota_bytes: int, poll_s: float) -> RunOutcome:
    over = threading.Event()
    captured: dict[str, tuple[bytes, bool]] = {}
    readers = [threading.Thread(target=_read_capped, args=(stream, output_bytes, over, captured, name), daemon=True)
               for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    if stdin is not None:
        readers.append(threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True))
    for thread in readers:
        thread.start()
    outcome = RunOutcome(returncode=-1, stdout=b"", stderr=b"")
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None:
        if over.is_set():
            break
        if time.monotonic() >= deadline:
            outcome.timed_out = True
            break
        if tree_bytes(workspace) > quota_bytes:
            outcome.quota_exceeded = True
            break
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=min(poll_s, max(deadline - time.monotonic(), 0.01)))
    if proc.poll() is None:
        _kill(proc)
        proc.wait()
    for thread in readers:
        thread.join(timeout=10)
    outcome.stdout, out_over = captured.get("stdout", (b"", False))
    outcome.stderr, err_over = captured.get("stderr", (b"", False))
    outcome.output_exceeded = out_over or err_over
    outcome.returncode = proc.returncode if proc.returncode is not None else -1
    if not outcome.quota_exceeded and tree_bytes(workspace) > quota_bytes:
        outcome.quota_exceeded = True
    return outcome


def _kill(proc: subprocess.Popen) -> None:
    # bwrap runs with --die-with-parent: killing it kills the sandbox's PID namespace with it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _feed(pipe: IO[bytes] | None, data: bytes) -> None:
    assert pipe is not None
    with contextlib.suppress(BrokenPipeError, ConnectionResetError, OSError):
        pipe.write(data)
        pipe.close()


def _read_capped(stream: io.BufferedReader | None, cap: int, over: threading.Event,
                 captured: dict[str, tuple[bytes, bool]], name: str) -> None:
    assert stream is not None
    chunks: list[bytes] = []
    size = 0
    exceeded = False
    while True:
        chunk = stream.read1(65536)
        if not chunk:
            break
        if size + len(chunk) > cap:
            chunks.append(chunk[: cap - size])
            exceeded = True
            over.set()
            break
        chunks.append(chunk)
        size += len(chunk)
    captured[name] = (b"".join(chunks), exceeded)
    if exceeded:
        # Keep draining (and discarding) until the sandbox is killed, so it never blocks on a full pipe.
        with contextlib.suppress(OSError, ValueError):
            while stream.read1(65536):
                pass
