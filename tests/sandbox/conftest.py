import asyncio
import shutil
import subprocess

import pytest

from overseer.sandbox import BwrapSandboxConfig


def _bwrap_unusable() -> str | None:
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    probe = subprocess.run(["bwrap", "--unshare-all", "--unshare-user", "--ro-bind", "/", "/", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"bubblewrap cannot create namespaces here: {probe.stderr.strip()[:200]}"
    return None


_REASON = _bwrap_unusable()
needs_bwrap = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def make_sandbox():
    """Fresh sandboxes, all cleaned up after the test."""
    if _REASON is not None:
        pytest.skip(_REASON)
    from overseer.sandbox.environment import BwrapSandboxEnvironment

    made = []

    def make(**limits):
        sb = BwrapSandboxEnvironment(BwrapSandboxConfig(**limits))
        made.append(sb)
        return sb

    yield make
    for sb in made:
        sb.cleanup()
