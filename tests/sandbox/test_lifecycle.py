"""The bwrap sandbox as Inspect uses it: registration, an eval through it, cleanup, errors."""

from asyncio import run

import pytest
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.scorer import includes
from inspect_ai.solver import Generate, TaskState, solver
from inspect_ai.util import SandboxUnavailableError, sandbox

from overseer.errors import ConfigurationError, MissingDependencyError
from overseer.sandbox import BwrapSandboxConfig

pytestmark = pytest.mark.usefixtures("make_sandbox")


def test_workspace_files_round_trip_between_host_and_sandbox(make_sandbox):
    sb = make_sandbox()
    run(sb.write_file("notes/a.txt", "from host"))
    r = run(sb.exec(["sh", "-c", "cat notes/a.txt; echo from-sandbox >> notes/a.txt; echo b > notes/b.bin"]))
    assert r.stdout == "from host"
    assert run(sb.read_file("notes/a.txt")) == "from hostfrom-sandbox\n"
    assert run(sb.read_file("/workspace/notes/b.bin", text=False)) == b"b\n"


def test_exec_honours_input_cwd_and_env(make_sandbox):
    sb = make_sandbox()
    run(sb.write_file("sub/x", ""))
    r = run(sb.exec(["sh", "-c", "pwd; echo $GREETING; cat"], input="piped", cwd="sub", env={"GREETING": "hi"}))
    assert r.stdout.split() == ["/workspace/sub", "hi", "piped"]


def test_cleanup_removes_the_workspace_and_later_exec_fails(make_sandbox):
    sb = make_sandbox()
    run(sb.write_file("a", "x"))
    sb.cleanup()
    assert not sb.root.exists()
    with pytest.raises(SandboxUnavailableError):
        run(sb.exec(["true"]))


@pytest.fixture
def fresh_probe():
    from overseer.sandbox import check_bwrap

    check_bwrap.cache_clear()
    yield
    check_bwrap.cache_clear()


def test_missing_bubblewrap_names_the_fix_and_the_docker_alternative(monkeypatch, fresh_probe):
    from overseer.sandbox.environment import BwrapSandboxEnvironment

    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(MissingDependencyError, match="apt-get install bubblewrap") as err:
        BwrapSandboxEnvironment()
    assert "docker" in str(err.value)


def test_bubblewrap_without_user_namespaces_is_a_clear_error(monkeypatch, fresh_probe):
    import subprocess

    from overseer.sandbox.environment import BwrapSandboxEnvironment

    failed = subprocess.CompletedProcess([], 1, "", "bwrap: setting up uid map: Permission denied")
    monkeypatch.setattr("subprocess.run", lambda *a, **k: failed)
    with pytest.raises(ConfigurationError, match="user namespaces") as err:
        BwrapSandboxEnvironment()
    assert "docker" in str(err.value)


def test_bad_config_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="BwrapSandboxConfig"):
        BwrapSandboxConfig.coerce(42)
    assert BwrapSandboxConfig.coerce({"timeout_s": 3}).timeout_s == 3


@solver
def _run_in_sandbox():
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        box = sandbox()
        await box.write_file("question.txt", state.input_text)
        result = await box.exec(["sh", "-c", "tr a-z A-Z < question.txt; echo $OPENAI_API_KEY; id -u"])
        state.output.completion = result.stdout
        return state

    return solve


@pytest.mark.slow
def test_inspect_eval_runs_samples_in_bwrap_and_cleans_up(make_sandbox, tmp_path, monkeypatch):
    import overseer.sandbox.environment as env_module

    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-key")
    roots = []
    original = env_module.BwrapSandboxEnvironment.__init__

    def track(self, config=None):
        original(self, config)
        roots.append(self.root)

    monkeypatch.setattr(env_module.BwrapSandboxEnvironment, "__init__", track)
    task = Task(dataset=[Sample(input="hello sandbox", target="HELLO SANDBOX"),
                         Sample(input="second sample", target="SECOND SAMPLE")],
                solver=_run_in_sandbox(), scorer=includes(), sandbox=("bwrap", BwrapSandboxConfig(timeout_s=10)))
    [log] = eval(task, model="mockllm/model", log_dir=str(tmp_path), display="none")
    assert log.status == "success"
    assert log.results.scores[0].metrics["accuracy"].value == 1.0
    for sample in log.samples:
        assert "sk-host-key" not in sample.output.completion
        assert sample.output.completion.split()[-1] == "1000"
    assert len(roots) == 2 and not any(r.exists() for r in roots)


@solver
def _crash_after_writing():
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        await sandbox().write_file("partial.txt", "x")
        raise RuntimeError("solver crashed")

    return solve


@pytest.mark.slow
def test_workspace_is_removed_when_the_sample_errors(make_sandbox, tmp_path, monkeypatch):
    import overseer.sandbox.environment as env_module

    roots = []
    original = env_module.BwrapSandboxEnvironment.__init__

    def track(self, config=None):
        original(self, config)
        roots.append(self.root)

    monkeypatch.setattr(env_module.BwrapSandboxEnvironment, "__init__", track)
    task = Task(dataset=[Sample(input="x", target="x")], solver=_crash_after_writing(), sandbox="bwrap")
    [log] = eval(task, model="mockllm/model", log_dir=str(tmp_path), display="none")
    assert log.status == "error"
    assert roots and not any(r.exists() for r in roots)
