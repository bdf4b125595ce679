"""The bubblewrap command line of one exec: what the sandboxed process can see and use."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from overseer.errors import ConfigurationError, MissingDependencyError
from overseer.sandbox.limits import BwrapSandboxConfig

WORKSPACE = "/workspace"
SANDBOX_UID = 1000
SANDBOX_USER = "agent"
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": WORKSPACE,
    "USER": SANDBOX_USER,
    "LANG": "C.UTF-8",
    "TMPDIR": "/tmp",
}
_SYSTEM_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# Only what dynamic linking and `python3` need from the host's /etc; nothing with secrets.
_ETC_FROM_HOST = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime")


def bwrap_path() -> str:
    """The bwrap binary, or a MissingDependencyError that says how to get it or what to use instead."""
    path = shutil.which("bwrap")
    if path is None:
        raise MissingDependencyError(
            "the 'bwrap' sandbox needs bubblewrap, which is not installed: run `apt-get install bubblewrap` "
            "(or your distribution's equivalent), or use Inspect's 'docker' sandbox instead."
        )
    return path


@functools.cache
def check_bwrap() -> str:
    """bwrap_path(), after one probe that it can create namespaces here (cached per process)."""
    path = bwrap_path()
    probe = subprocess.run([path, "--unshare-all", "--unshare-user", "--ro-bind", "/", "/", "true"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        raise ConfigurationError(
            f"bubblewrap cannot create its namespaces here ({probe.stderr.strip()[:160] or 'no message'}): allow "
            "unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu "
            "kernel.apparmor_restrict_unprivileged_userns=0), or use Inspect's 'docker' sandbox instead."
        )
    return path


def write_etc(etc: Path) -> None:
    """The sandbox's own passwd/group/hosts, so that tools that look up the user work."""
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "passwd").write_text(f"{SANDBOX_USER}:x:{SANDBOX_UID}:{SANDBOX_UID}::{WORKSPACE}:/bin/sh\n"
                                "nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n")
    (etc / "group").write_text(f"{SANDBOX_USER}:x:{SANDBOX_UID}:\nnogroup:x:65534:\n")
    (etc / "hosts").write_text("127.0.0.1 localhost sandbox\n")


def bwrap_argv(
    cmd: list[str],
    workspace: Path,
    etc: Path,
    config: BwrapSandboxConfig,
    cwd: str = WORKSPACE,
    env: dict[str, str] | None = None,
) -> list[str]:
    """The full argv: bwrap with every namespace unshared, then prlimit, then `cmd`."""
    argv = [
        bwrap_path(),
        "--unshare-all", "--unshare-user", "--disable-userns",
        "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
        "--ro-bind", "/usr", "/usr",
    ]
    for name in _SYSTEM_DIRS:
        host = Path("/") / name
        if host.is_symlink():
            argv += ["--symlink", os.readlink(host), f"/{name}"]
        elif host.is_dir():
            argv += ["--ro-bind", str(host), f"/{name}"]
    argv += ["--tmpfs", "/etc"]
    for name in _ETC_FROM_HOST:
        if (Path("/etc") / name).exists():
            argv += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    for name in ("passwd", "group", "hosts"):
        argv += ["--ro-bind", str(etc / name), f"/etc/{name}"]
    argv += [
        "--remount-ro", "/etc",
        "--proc", "/proc", "--dev", "/dev",
        "--size", str(config.tmp_mb << 20), "--tmpfs", "/tmp",
        "--bind", str(workspace), WORKSPACE,
        "--chdir", cwd, "--clearenv",
    ]
    for key, value in {**BASE_ENV, **(env or {})}.items():
        argv += ["--setenv", key, value]
    argv += ["--", shutil.which("prlimit") or "/usr/bin/prlimit", *_rlimits(config), "--", *cmd]
    return argv


def _rlimits(config: BwrapSandboxConfig) -> list[str]:
    return [
        f"--cpu={config.cpu_seconds}",
        f"--as={config.memory_mb << 20}",
        f"--fsize={config.file_size_mb << 20}",
        f"--nproc={config.processes}",
        f"--nofile={config.open_files}",
        "--core=0",
    ]
