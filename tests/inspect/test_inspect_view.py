"""`inspect view` serves overseer's eval logs: started on a free loopback port, its log list read back, stopped."""

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import Sample
from inspect_ai.solver import generate

from overseer.serve import free_port


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_inspect_view_lists_and_returns_a_policy_eval_log_over_loopback(tmp_path):
    [log] = inspect_eval(Task(dataset=[Sample(input="hi")], solver=generate()), model="overseer-policy/refuse-all",
                         log_dir=str(tmp_path), display="none")
    inspect_cli = shutil.which("inspect", path=str(Path(sys.executable).parent))
    assert inspect_cli is not None
    port = free_port()
    server = subprocess.Popen([inspect_cli, "view", "start", "--log-dir", str(tmp_path), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/api"
        deadline, listing = time.monotonic() + 60, None
        while listing is None and time.monotonic() < deadline:
            try:
                listing = _get(f"{base}/log-files")
            except urllib.error.HTTPError:
                raise
            except OSError:  # not listening yet
                time.sleep(0.3)
        assert listing is not None, "inspect view did not start within 60 s"
        names = [entry["name"] for entry in listing["files"] if entry["name"].endswith(Path(log.location).name)]
        assert len(names) == 1
        served = _get(f"{base}/logs/{urllib.parse.quote(names[0], safe='')}")
        assert served["eval"]["model"] == "overseer-policy/refuse-all"
        assert served["samples"][0]["output"]["completion"] == "I can't help with that."
    finally:
        server.terminate()
        server.wait(timeout=20)
