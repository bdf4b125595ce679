"""File access to a sandbox's workspace from the host, confined to that workspace.

A path is taken relative to the workspace (an absolute one must lie under /workspace). It is
walked one component at a time with `O_NOFOLLOW` from a descriptor of the workspace, so neither
`..` nor a symlink planted by the sandboxed code (to /etc/passwd, to another sample's workspace)
can lead outside, even if the link is swapped while we walk.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path, PurePosixPath

from overseer.sandbox.command import WORKSPACE

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def relative_parts(file: str) -> list[str]:
    """The workspace-relative components of `file`, or PermissionError if it points outside."""
    path = PurePosixPath(file)
    if path.is_absolute():
        try:
            path = path.relative_to(WORKSPACE)
        except ValueError:
            raise PermissionError(errno.EACCES, f"path outside the sandbox workspace {WORKSPACE}", file) from None
    parts = [p for p in path.parts if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise PermissionError(errno.EACCES, "'..' is not allowed in sandbox paths", file)
    if not parts:
        raise IsADirectoryError(errno.EISDIR, "is the workspace directory", file)
    return parts


def _open_parent(workspace: Path, parts: list[str], file: str, create: bool, owner: int | None = None) -> int:
    fd = os.open(workspace, _DIR_FLAGS)
    try:
        for name in parts[:-1]:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o755, dir_fd=fd)
                    if owner is not None:
                        os.chown(name, owner, owner, dir_fd=fd, follow_symlinks=False)
            try:
                nxt = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise PermissionError(errno.EACCES, "a symlink or non-directory in the path", file) from None
                if e.errno == errno.ENOENT:
                    raise FileNotFoundError(errno.ENOENT, "no such file", file) from None
                raise
            os.close(fd)
            fd = nxt
        return fd
    except BaseException:
        os.close(fd)
        raise


def _open_leaf(workspace: Path, file: str, flags: int, create: bool, owner: int | None = None) -> int:
    parts = relative_parts(file)
    parent = _open_parent(workspace, parts, file, create, owner)
    try:
        # O_NONBLOCK: a FIFO planted in the workspace must not hang the host.
        return os.open(parts[-1], flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o644, dir_fd=parent)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise PermissionError(errno.EACCES, "the file is a symlink", file) from None
        if e.errno == errno.ENOENT:
            raise FileNotFoundError(errno.ENOENT, "no such file", file) from None
        if e.errno == errno.EISDIR:
            raise IsADirectoryError(errno.EISDIR, "is a directory", file) from None
        if e.errno == errno.ENXIO:
            raise PermissionError(errno.EACCES, "not a regular file", file) from None
        raise
    finally:
        os.close(parent)


def read_confined(workspace: Path, file: str, max_bytes: int) -> bytes:
    """The bytes of `file`; raises OSError subclasses as Inspect's sandbox contract expects."""
    from inspect_ai.util import OutputLimitExceededError

    fd = _open_leaf(workspace, file, os.O_RDONLY, create=False)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not _is_regular(st.st_mode):
            raise PermissionError(errno.EACCES, "not a regular file", file)
        if st.st_size > max_bytes:
            raise OutputLimitExceededError(limit_str=f"{max_bytes} bytes", truncated_output=None)
        return f.read(max_bytes + 1)[:max_bytes]


def write_confined(workspace: Path, file: str, data: bytes, owner: int | None = None) -> None:
    """Write `data` to `file`, creating parent directories inside the workspace (owned by `owner`)."""
    fd = _open_leaf(workspace, file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, create=True, owner=owner)
    with os.fdopen(fd, "wb") as f:
        if not _is_regular(os.fstat(f.fileno()).st_mode):
            raise PermissionError(errno.EACCES, "not a regular file", file)
        if owner is not None:
            os.fchown(f.fileno(), owner, owner)
        f.write(data)


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def tree_bytes(root: Path) -> int:
    """Disk space used under `root` (allocated blocks, so sparse files count as what they use)."""
    total = 0
    stack = [str(root)]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += st.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return total
