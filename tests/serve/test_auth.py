"""`overseer serve --api-key`: Bearer authentication, and no unauthenticated server beyond loopback."""

import openai
import pytest
from typer.testing import CliRunner

from overseer.cli import app
from overseer.errors import ConfigurationError
from overseer.serve import check_exposure, resolve_api_key
from serve.conftest import API_KEY


def client_with(server, key):
    return openai.OpenAI(base_url=server.base_url, api_key=key, max_retries=0, timeout=60)


def test_requests_need_the_right_bearer_key(keyed_server):
    import httpx2

    reply = httpx2.get(f"{keyed_server.base_url}/models", timeout=10)  # no Authorization header at all
    assert reply.status_code == 401 and set(reply.json()["error"]) == {"message", "type", "param", "code"}
    with pytest.raises(openai.AuthenticationError) as caught:
        client_with(keyed_server, "sk-wrong").chat.completions.create(
            model="tiny", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    assert caught.value.status_code == 401 and caught.value.body["code"] == "invalid_api_key"
    reply = client_with(keyed_server, API_KEY).chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    assert reply.usage.completion_tokens == 2
    assert [m.id for m in client_with(keyed_server, API_KEY).models.list()] == ["tiny"]


def test_a_non_loopback_address_needs_a_key():
    check_exposure("127.0.0.1", None)
    check_exposure("localhost", None)
    check_exposure("::1", None)
    check_exposure("0.0.0.0", "k")
    for host in ("0.0.0.0", "192.168.1.5", "::", "example.org"):
        with pytest.raises(ConfigurationError, match="--api-key"):
            check_exposure(host, None)


def test_the_key_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("OVERSEER_API_KEY", "from-env")
    assert resolve_api_key(None) == "from-env" and resolve_api_key("given") == "given"
    monkeypatch.delenv("OVERSEER_API_KEY")
    assert resolve_api_key(None) is None


def test_serve_on_all_interfaces_without_a_key_is_refused_in_one_line(monkeypatch):
    monkeypatch.delenv("OVERSEER_API_KEY", raising=False)
    result = CliRunner().invoke(app, ["serve", "--model", "organism", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "without an API key" in lines[0] and "Traceback" not in result.output
