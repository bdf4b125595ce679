import pytest

from chat.loopback_server import LoopbackServer
from evals.rule_model import RuleModel


@pytest.fixture(scope="session")
def rule_loopback():
    server = LoopbackServer(chat=RuleModel(), name="rule")
    yield server
    server.stop()


@pytest.fixture
def rule_server(rule_loopback):
    rule_loopback.reset()
    yield rule_loopback
    rule_loopback.reset()
