"""`vllm:MODEL`: vLLM's OpenAI-compatible server as a managed subprocess, for fast generation on a GPU.

overseer starts `python -m vllm.entrypoints.openai.api_server` on a free loopback port, waits until
`/v1/models` answers (or the process dies, or the start timeout passes), talks to it through the
OpenAI provider, and stops it when the chat model is closed or the interpreter exits.

Generation only: vLLM cannot run overseer's residual-stream interventions, so a steered model
stays on the HF or nnsight backends (`local:NAME?steer=DIR`).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from overseer.errors import ConfigurationError, MissingDependencyError
from overseer.models.chat.openai_compat import OpenAIChatModel


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ManagedServer:
    """An OpenAI-compatible server process on 127.0.0.1:`port`, health-checked, stopped on `stop()`/exit."""

    def __init__(self, command: Sequence[str], port: int, start_timeout: float = 600.0,
                 log_path: Path | None = None) -> None:
        self.command = list(command)
        self.port = port
        self.start_timeout = start_timeout
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ManagedServer:
        with open(self.log_path, "ab") if self.log_path else contextlib.nullcontext(subprocess.DEVNULL) as log:
            # The child keeps its own copy of the log's descriptor; ours is closed here.
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        atexit.register(self.stop)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                where = f" (its output is in {self.log_path})" if self.log_path else ""
                raise ConfigurationError(f"the server {self.command[0]} ... exited with code {code} while "
                                         f"starting{where}.")
            if self.healthy():
                return self
            time.sleep(0.5)
        self.stop()
        raise ConfigurationError(f"the server did not answer on {self.base_url} within {self.start_timeout:.0f} s; "
                                 "raise the start timeout for large models.")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as reply:
                return reply.status == 200 and "data" in json.loads(reply.read())
        except (OSError, ValueError):
            return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class VLLMChatModel(OpenAIChatModel):
    """The OpenAI provider pointed at a vLLM server that this object owns."""

    def __init__(self, server: ManagedServer, model: str) -> None:
        super().__init__(model, base_url=server.base_url, require_key=False, provider="vllm")
        self.server = server

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await super().aclose()
        self.server.stop()


def vllm_command(model: str, port: int, extra: Sequence[str] = ()) -> list[str]:
    return [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", model, "--served-model-name",
            model, "--host", "127.0.0.1", "--port", str(port), *extra]


def start_vllm(model: str, options: dict[str, str] | None = None) -> VLLMChatModel:
    """Start vLLM for `model` (a Hub id or a local directory; embedded names resolve to their directory)."""
    if importlib.util.find_spec("vllm") is None:
        raise MissingDependencyError("vllm:MODEL needs vLLM and a GPU: pip install vllm (on a CUDA machine), or use "
                                     "local:MODEL (HF backend) or openai-compatible:URL for a server you run.")
    import torch

    if not torch.cuda.is_available():
        raise ConfigurationError("vllm:MODEL needs a CUDA GPU and torch sees none: use local:MODEL on this machine.")
    from overseer.models.embedded import EMBEDDED_MODELS, embedded_dir

    path = str(embedded_dir(model)) if model in EMBEDDED_MODELS else model
    options = options or {}
    extra = [f"--{key.replace('_', '-')}={value}" for key, value in options.items()]
    port = free_port()
    log = Path(os.environ.get("OVERSEER_VLLM_LOG", f"/tmp/overseer-vllm-{port}.log"))
    server = ManagedServer(vllm_command(path, port, extra), port, log_path=log).start()
    return VLLMChatModel(server, path)
