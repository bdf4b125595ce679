import shutil
import subprocess

import pytest


def bwrap_unusable() -> str | None:
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    probe = subprocess.run(["bwrap", "--unshare-all", "--unshare-user", "--ro-bind", "/", "/", "true"],
                           capture_output=True, text=True)
    return None if probe.returncode == 0 else f"bubblewrap cannot create namespaces here: {probe.stderr[:200]}"


@pytest.fixture
def needs_bwrap():
    reason = bwrap_unusable()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def policy_runs(tmp_path_factory):
    """Every scenario under obey-latest, owner-only and overclaim, once per test session: {policy: EvalLog}."""
    reason = bwrap_unusable()
    if reason:
        pytest.skip(reason)
    from inspect_ai import eval

    import overseer._inspect_registry  # noqa: F401
    from overseer.evals.redteam.task import redteam

    policies = ["obey-latest", "owner-only", "overclaim"]
    logs = eval(redteam(bash_timeout=2), model=[f"overseer-policy/{p}" for p in policies],
                log_dir=str(tmp_path_factory.mktemp("redteam-logs")), display="none", max_samples=8)
    return {log.eval.model.split("/", 1)[1]: log for log in logs}
