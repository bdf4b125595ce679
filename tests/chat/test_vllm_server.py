"""The managed-server lifecycle behind `vllm:MODEL`, driven with a stand-in OpenAI-compatible server."""

from __future__ import annotations

import importlib.util
import sys
import textwrap

import pytest

from overseer.errors import ConfigurationError, MissingDependencyError
from overseer.models.chat.vllm_server import ManagedServer, free_port, start_vllm, vllm_command

STAND_IN = textwrap.dedent("""
    import json, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"object": "list", "data": [{"id": "stand-in", "object": "model"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
""")


def test_server_is_started_health_checked_and_stopped(tmp_path):
    script = tmp_path / "server.py"
    script.write_text(STAND_IN)
    port = free_port()
    server = ManagedServer([sys.executable, str(script), str(port)], port, start_timeout=30).start()
    try:
        assert server.healthy()
        assert server.base_url == f"http://127.0.0.1:{port}/v1"
    finally:
        server.stop()
    assert server.process is None
    assert not server.healthy()


def test_a_server_that_dies_while_starting_is_a_clear_error(tmp_path):
    log = tmp_path / "server.log"
    command = [sys.executable, "-c", "import sys; print('no GPU here'); sys.exit(3)"]
    with pytest.raises(ConfigurationError, match="exited with code 3"):
        ManagedServer(command, free_port(), start_timeout=30, log_path=log).start()
    assert "no GPU here" in log.read_text()


def test_a_server_that_never_answers_is_stopped_after_the_timeout():
    server = ManagedServer([sys.executable, "-c", "import time; time.sleep(60)"], free_port(), start_timeout=1.5)
    with pytest.raises(ConfigurationError, match="did not answer"):
        server.start()
    assert server.process is None


def test_vllm_command_binds_loopback_and_serves_the_model_under_its_name():
    command = vllm_command("/models/x", 8123)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[command.index("--served-model-name") + 1] == "/models/x"


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_vllm_spec_without_vllm_says_how_to_get_it():
    with pytest.raises(MissingDependencyError, match="pip install vllm"):
        start_vllm("smollm2")


def test_vllm_spec_is_parsed_with_its_flags():
    from overseer.models.chat.factory import PROVIDERS, parse_spec

    assert "vllm" in PROVIDERS
    assert parse_spec("vllm:Qwen/Qwen2.5-7B-Instruct?tensor_parallel_size=2") == (
        "vllm", "Qwen/Qwen2.5-7B-Instruct", {"tensor_parallel_size": "2"})
