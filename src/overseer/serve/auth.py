"""Bearer-token authentication for `overseer serve`, and the rule that a server reachable from other
machines must have a key."""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
from typing import Any

from overseer.errors import ConfigurationError

API_KEY_ENV = "OVERSEER_API_KEY"


def resolve_api_key(api_key: str | None) -> str | None:
    """The key given, else `OVERSEER_API_KEY`, else None (no authentication)."""
    return api_key or os.environ.get(API_KEY_ENV) or None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def check_exposure(host: str, api_key: str | None) -> None:
    """Refuse to serve a non-loopback address without a key: anyone on the network could use the model."""
    if not api_key and not is_loopback(host):
        raise ConfigurationError(f"refusing to serve on {host} without an API key: pass --api-key KEY (or set "
                                 f"{API_KEY_ENV}), or bind 127.0.0.1.")


class BearerAuth:
    """ASGI middleware: every HTTP request needs `Authorization: Bearer <api_key>` (else 401, OpenAI's body)."""

    def __init__(self, app: Any, api_key: str) -> None:
        self.app = app
        self.expected = f"Bearer {api_key}".encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        header = dict(scope.get("headers") or []).get(b"authorization")
        if header is not None and hmac.compare_digest(header, self.expected):
            return await self.app(scope, receive, send)
        if header is None:
            message, code = ("You didn't provide an API key. You need to provide your API key in an Authorization "
                             "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."), None
        else:
            message, code = "Incorrect API key provided.", "invalid_api_key"
        body = json.dumps({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                     "code": code}}).encode()
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"www-authenticate", b'Bearer realm="overseer"')]})
        await send({"type": "http.response.body", "body": body})
