"""The same crisis run against an OpenAI-compatible endpoint: `overseer serve` on 127.0.0.1 as both players,
reached through Inspect's own `openai-api` provider."""

import pytest

from overseer.models.chat.local import LocalChatModel
from overseer.serve import create_app, start_in_thread

from helpers.tiny_models import tiny_model


def _endpoint_model(handle, name, max_tokens=None):
    from inspect_ai.model import GenerateConfig, get_model

    return get_model(f"openai-api/overseer/{name}", base_url=handle.base_url, api_key="unused",
                     config=GenerateConfig(max_tokens=max_tokens))


def _run(model, tmp_path, mode, max_turns):
    from inspect_ai import eval as inspect_eval

    from overseer.evals.wargame.task import STORE_KEY, crisis

    log = inspect_eval(crisis(scenarios="standoff", seeds=1, max_turns=max_turns, alpha_mode=mode, beta_mode=mode,
                              retries=1), model_roles={"alpha": model, "beta": model}, model=model,
                       log_dir=str(tmp_path), display="none")[0]
    assert log.status == "success", log.error
    return log.samples[0].store[STORE_KEY]


@pytest.mark.slow
def test_smollm2_behind_overseer_serve_plays_both_sides_by_constrained_choice(tmp_path):
    from overseer.models import load_model

    with start_in_thread(create_app(LocalChatModel(load_model("smollm2"), name="smollm2"),
                                    model_name="smollm2")) as handle:
        game = _run(_endpoint_model(handle, "smollm2"), tmp_path, "choice", max_turns=2)
    assert len(game["turns"]) >= 1
    for turn in game["turns"]:
        phases = turn["phases"]
        assert len(phases) == 8  # 4 questions x 2 sides
        # the rung comes from the endpoint's top log-probabilities over the option labels
        assert all(p["readout"] for p in phases if p["phase"].startswith(("signal", "action")))
        assert all(turn["moves"][s]["invalid"] == [] for s in ("alpha", "beta"))


@pytest.mark.slow
def test_unreadable_json_from_an_endpoint_is_re_asked_then_counted_invalid(tmp_path):
    lm = tiny_model("llama")  # random weights: never valid JSON
    with start_in_thread(create_app(LocalChatModel(lm, name="tiny"), model_name="tiny")) as handle:
        game = _run(_endpoint_model(handle, "tiny", max_tokens=12), tmp_path, "json", max_turns=2)
    assert len(game["turns"]) == 2
    for turn in game["turns"]:
        for side in ("alpha", "beta"):
            assert turn["moves"][side]["invalid"] == ["reflection", "forecast", "signal", "action"]
            assert turn["moves"][side]["action"] == "Return to Start Line"
        assert all(len(p["replies"]) == 2 for p in turn["phases"])
