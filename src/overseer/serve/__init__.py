"""Serve any chat model (a local HF model, steered or not) as an OpenAI-compatible endpoint."""

from overseer.serve.app import create_app
from overseer.serve.auth import check_exposure, resolve_api_key
from overseer.serve.schema import APIError
from overseer.serve.server import BackgroundServer, free_port, serve_forever, serve_model, start_in_thread

__all__ = ["APIError", "BackgroundServer", "check_exposure", "create_app", "free_port", "resolve_api_key",
           "serve_forever", "serve_model", "start_in_thread"]
