"""Run one bwrap argv with a wall-clock timeout, an output cap and a workspace quota."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path

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
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        # bwrap's own reaper (PID 1 inside) keeps the environment bwrap started with, readable at
        # /proc/1/environ: --clearenv only clears the command's. So bwrap gets none of the host's.
        env={"PATH": "/usr/bin:/bin"},
        **({"user": host_uid, "group": host_uid, "extra_groups": []} if host_uid is not None else {}),
    )
    outcome = RunOutcome(returncode=-1, stdout=b"", stderr=b"")
    over = asyncio.Event()
    helpers: list[asyncio.Task] = []
    try:
        readers = [asyncio.create_task(_read_capped(s, output_bytes, over)) for s in (proc.stdout, proc.stderr)]
        watcher = asyncio.create_task(_watch_quota(workspace, quota_bytes, poll_s, over))
        overflow = asyncio.create_task(over.wait())
        helpers += [watcher, overflow]
        if stdin is not None:
            helpers.append(asyncio.create_task(_feed(proc, stdin)))
        done = asyncio.create_task(proc.wait())
        finished, _ = await asyncio.wait({done, overflow}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        if done not in finished:
            _kill(proc)
            outcome.timed_out = not finished
        await proc.wait()
        for task in helpers:
            task.cancel()
        outcome.quota_exceeded = watcher.done() and not watcher.cancelled() and watcher.result()
        (outcome.stdout, out_over), (outcome.stderr, err_over) = await asyncio.gather(*readers)
        outcome.output_exceeded = out_over or err_over
        outcome.returncode = proc.returncode if proc.returncode is not None else -1
        if not outcome.quota_exceeded and tree_bytes(workspace) > quota_bytes:
            outcome.quota_exceeded = True
        return outcome
    finally:
        for task in helpers:
            task.cancel()
        if proc.returncode is None:
            _kill(proc)
            with contextlib.suppress(Exception):
                await asyncio.shield(proc.wait())


def _kill(proc: asyncio.subprocess.Process) -> None:
    # bwrap runs with --die-with-parent: killing it kills the sandbox's PID namespace with it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


async def _feed(proc: asyncio.subprocess.Process, data: bytes) -> None:
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        proc.stdin.write(data)
        await proc.stdin.drain()
        proc.stdin.close()


async def _read_capped(stream: asyncio.StreamReader | None, cap: int, over: asyncio.Event) -> tuple[bytes, bool]:
    assert stream is not None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            return b"".join(chunks), False
        if size + len(chunk) > cap:
            chunks.append(chunk[: cap - size])
            over.set()
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)


async def _watch_quota(workspace: Path, quota_bytes: int, poll_s: float, over: asyncio.Event) -> bool:
    while True:
        await asyncio.sleep(poll_s)
        if await asyncio.to_thread(tree_bytes, workspace) > quota_bytes:
            over.set()
            return True
