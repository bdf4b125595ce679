import pytest

from chat.loopback_server import loopback, server  # noqa: F401  (fixtures)
from overseer.models.chat.local import LocalChatModel
from overseer.serve import create_app, start_in_thread

from helpers.tiny_models import tiny_model

API_KEY = "sk-test-overseer"


def _tiny_chat() -> LocalChatModel:
    lm = tiny_model("llama")
    lm.model.generation_config.eos_token_id = None  # every completion runs to max_tokens or a stop sequence
    return LocalChatModel(lm, name="tiny")


@pytest.fixture(scope="session")
def openai_server():
    with start_in_thread(create_app(_tiny_chat(), model_name="tiny")) as handle:
        yield handle


@pytest.fixture(scope="session")
def keyed_server():
    with start_in_thread(create_app(_tiny_chat(), model_name="tiny", api_key=API_KEY)) as handle:
        yield handle


@pytest.fixture
def client(openai_server):
    import openai

    return openai.OpenAI(base_url=openai_server.base_url, api_key="unused", max_retries=0, timeout=60)
