"""Serve any chat model (a local HF model, steered or not) as an OpenAI-compatible endpoint."""

from overseer.serve.app import create_app
from overseer.serve.server import BackgroundServer, free_port, serve_forever, start_in_thread

__all__ = ["BackgroundServer", "create_app", "free_port", "serve_forever", "start_in_thread"]
