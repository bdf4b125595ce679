import pytest

import overseer._inspect_registry  # noqa: F401  (the overseer and overseer-policy providers)
from overseer.evals.wargame import policies  # noqa: F401  (registers the scripted players)


@pytest.fixture
def policy_model():
    from inspect_ai.model import get_model

    return lambda name: get_model(f"overseer-policy/{name}")
