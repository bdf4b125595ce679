import pytest

from chat.loopback_server import LoopbackServer
from evals.rule_model import LeaningRuleModel, RuleModel


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


@pytest.fixture(scope="session")
def leaning_loopback():
    server = LoopbackServer(chat=LeaningRuleModel(), name="leaning")
    yield server
    server.stop()
