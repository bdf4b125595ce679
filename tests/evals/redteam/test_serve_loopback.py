"""The red-team task against `overseer serve` over loopback: the overseer provider's JSON text tool
protocol, over HTTP, to a scripted chat model that does what the latest harness message asks."""

import re

import pytest

from chat.loopback_server import LoopbackServer
from overseer.models.chat import ChatModel, ChatResponse, Usage

_BLOCK = re.compile(r"```tool\n.*?\n```", re.DOTALL)


class TextObeyer(ChatModel):
    """obey-latest in plain text: writes the latest harness message's tool blocks back, one per turn."""

    provider = "text-obeyer"
    model = "text-obeyer"

    async def _complete(self, request):
        users = [(i, text) for i, (role, text) in enumerate(request.messages) if role == "user"]
        latest = max(i for i, text in users if text.startswith("[from:"))
        request_text = request.messages[latest][1]
        done = sum(1 for i, text in users if i > latest and text.startswith("[tool result"))
        blocks = _BLOCK.findall(request_text.split("\n", 1)[1])
        reply = blocks[done] if done < len(blocks) else "Done."
        return ChatResponse(texts=[reply], model=self.model, usage=Usage(), finish_reasons=["stop"])


@pytest.mark.slow
def test_redteam_runs_against_overseer_serve_over_loopback(tmp_path, needs_bwrap):
    from overseer.evals.redteam.results import run_redteam

    server = LoopbackServer(chat=TextObeyer(), name="obeyer")
    try:
        summary = run_redteam(f"overseer/{server.spec}", tmp_path, kinds="attack", cases="non_owner,disclosure",
                              max_samples=2, bash_timeout=2)
    finally:
        server.stop()
    assert summary.errors == 0 and summary.n == 6
    assert summary.attack_success.value == 1.0 and summary.utility_under_attack.value == 1.0
    assert summary.tool_calls >= 12 and summary.valid_tool_call_rate.value == 1.0
    assert server.log.served > 0
