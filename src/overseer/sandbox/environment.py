"""The `bwrap` Inspect sandbox: one fresh bubblewrap workspace per sample.

    Task(..., sandbox="bwrap")                                   # defaults
    Task(..., sandbox=("bwrap", BwrapSandboxConfig(timeout_s=5))) # tighter limits

Every exec starts a new bwrap with all namespaces unshared (no network, its own PIDs, a user
namespace whose uid has no capabilities and cannot make another one), read-only /usr and
/etc essentials, a tmpfs /tmp, the sample's workspace bound read-write at /workspace, a cleared
environment, and rlimits (CPU, address space, file size, processes, open files) applied by
prlimit inside. Around it: a wall-clock timeout, a cap on stdout/stderr and a disk quota on the
workspace, each of which kills the whole sandbox. Nothing outlives an exec: the PID namespace
dies with it. The workspace is removed in sample_cleanup, whatever the sample's fate.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal, overload

from inspect_ai.util import ExecResult, OutputLimitExceededError, SandboxEnvironment, sandboxenv
from inspect_ai.util._sandbox.events import SandboxTimeoutError
from pydantic import BaseModel

from overseer.sandbox.command import WORKSPACE, bwrap_argv, check_bwrap, write_etc
from overseer.sandbox.limits import BwrapSandboxConfig
from overseer.sandbox.paths import read_confined, write_confined
from overseer.sandbox.process import run_limited

logger = logging.getLogger(__name__)


@sandboxenv(name="bwrap")
class BwrapSandboxEnvironment(SandboxEnvironment):
    """A bubblewrap sandbox around one sample's workspace."""

    def __init__(self, config: BwrapSandboxConfig | None = None) -> None:
        super().__init__()
        check_bwrap()
        self.config = config or BwrapSandboxConfig()
        self.root = Path(tempfile.mkdtemp(prefix="overseer-bwrap-"))
        self.workspace = self.root / "workspace"
        self.workspace.mkdir()
        write_etc(self.root / "etc")
        # Host-side state of the sample (an eval's services) that the sandboxed code cannot reach.
        self.private = self.root / "private"
        self.private.mkdir(mode=0o700)
        # As root, bwrap runs as an unprivileged host uid that owns the workspace (see host_uid).
        self.host_uid = self.config.host_uid if os.geteuid() == 0 else None
        if self.host_uid is not None:
            for path in (self.root, self.workspace, self.root / "etc", *(self.root / "etc").iterdir()):
                os.chown(path, self.host_uid, self.host_uid)
        self.root.chmod(0o700)

    @classmethod
    async def task_init(cls, task_name: str, config: Any) -> None:
        check_bwrap()
        BwrapSandboxConfig.coerce(config)

    @classmethod
    async def sample_init(cls, task_name: str, config: Any, metadata: dict[str, str]) -> dict[str, SandboxEnvironment]:
        return {"default": cls(BwrapSandboxConfig.coerce(config))}

    @classmethod
    async def sample_cleanup(cls, task_name: str, config: Any, environments: dict[str, SandboxEnvironment],
                             interrupted: bool) -> None:
        for env in environments.values():
            if isinstance(env, BwrapSandboxEnvironment):
                env.cleanup()

    @classmethod
    def config_deserialize(cls, config: dict[str, Any]) -> BaseModel:
        return BwrapSandboxConfig(**config)

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    async def exec(
        self,
        cmd: list[str],
        input: str | bytes | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        user: str | None = None,
        timeout: int | None = None,
        timeout_retry: bool = True,
        concurrency: bool = True,
    ) -> ExecResult[str]:
        from inspect_ai.util import SandboxUserUnsupportedError

        if user is not None:
            raise SandboxUserUnsupportedError("the bwrap sandbox runs every command as its one unprivileged user.")
        if not self.workspace.is_dir():
            from inspect_ai.util import SandboxUnavailableError

            raise SandboxUnavailableError("this bwrap sandbox has been cleaned up.")
        limit = min(timeout, self.config.timeout_s) if timeout else self.config.timeout_s
        argv = bwrap_argv(cmd, self.workspace, self.root / "etc", self.config, cwd=self._inside_cwd(cwd), env=env)
        stdin = input.encode() if isinstance(input, str) else input
        out = await run_limited(argv, stdin, limit, self.config.output_bytes, self.workspace,
                                self.config.workspace_mb << 20, self.config.quota_poll_s, self.host_uid)
        stdout = out.stdout.decode("utf-8", errors="replace")
        stderr = out.stderr.decode("utf-8", errors="replace")
        if out.timed_out:
            raise SandboxTimeoutError(f"command timed out after {limit}s in the bwrap sandbox", stdout or None)
        if out.output_exceeded:
            raise OutputLimitExceededError(f"{self.config.output_bytes} bytes", stdout)
        if out.quota_exceeded:
            stderr += f"\n[sandbox] workspace over its {self.config.workspace_mb} MiB quota; the command was stopped."
            return ExecResult(success=False, returncode=out.returncode or 1, stdout=stdout, stderr=stderr)
        return ExecResult(success=out.returncode == 0, returncode=out.returncode, stdout=stdout, stderr=stderr)

    async def write_file(self, file: str, contents: str | bytes) -> None:
        data = contents.encode("utf-8") if isinstance(contents, str) else contents
        if len(data) > self.config.file_size_mb << 20:
            raise PermissionError(errno.EFBIG, "larger than the sandbox's file size limit", file)
        write_confined(self.workspace, file, data, self.host_uid)

    @overload
    async def read_file(self, file: str, text: Literal[True] = True) -> str: ...

    @overload
    async def read_file(self, file: str, text: Literal[False]) -> bytes: ...

    async def read_file(self, file: str, text: bool = True) -> str | bytes:
        from inspect_ai.util._sandbox.limits import SandboxEnvironmentLimits

        data = read_confined(self.workspace, file, SandboxEnvironmentLimits.MAX_READ_FILE_SIZE)
        return data.decode("utf-8") if text else data

    def _inside_cwd(self, cwd: str | None) -> str:
        # Any directory inside the sandbox will do: the cwd is resolved by bwrap, inside.
        if cwd is None:
            return WORKSPACE
        return cwd if cwd.startswith("/") else f"{WORKSPACE}/{cwd}"

    def default_polling_interval(self) -> float:
        return 0.2
