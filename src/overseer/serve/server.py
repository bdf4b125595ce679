"""Run an app with uvicorn, in the foreground (the CLI) or in a background thread (tests, notebooks)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from overseer.errors import ConfigurationError
from overseer.serve.app import create_app
from overseer.serve.auth import API_KEY_ENV, check_exposure, resolve_api_key


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def serve_forever(app: FastAPI, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> None:
    uvicorn.run(app, host=host, port=port, log_level=log_level)


def serve_model(model: str, steer: str | Path | None = None, layer: int | None = None, name: str | None = None,
                host: str = "127.0.0.1", port: int = 8000, device: str = "cpu", api_key: str | None = None,
                announce: Callable[[str], None] = print) -> None:
    """Load a local (optionally steered) model and serve it until interrupted. `api_key` (or
    `OVERSEER_API_KEY`) is required to bind anything but a loopback address."""
    from overseer.models.chat.local import LocalChatModel

    key = resolve_api_key(api_key)
    check_exposure(host, key)  # before the model loads: fail fast
    chat = LocalChatModel(model, steer=steer, steer_layer=layer, device=device, name=name)
    url = f"http://{host}:{port}/v1"
    auth = f"; send Authorization: Bearer <key> ({'--api-key' if api_key else API_KEY_ENV})" if key else ""
    announce(f"serving {chat.model} at {url} (spec: openai-compatible:{url}#{chat.model}){auth}")
    serve_forever(create_app(chat, api_key=key), host=host, port=port)


@dataclass
class BackgroundServer:
    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(app: FastAPI, host: str = "127.0.0.1", port: int | None = None,
                    startup_timeout: float = 20.0) -> BackgroundServer:
    """Start uvicorn in a daemon thread and return once it accepts connections."""
    port = port or free_port(host)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name=f"overseer-serve-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise ConfigurationError(f"the server on {host}:{port} did not start (port taken?).")
        time.sleep(0.02)
    return BackgroundServer(server, thread, host, port)
