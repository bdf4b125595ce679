import asyncio
import re

import pytest
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessageAssistant,
    GenerateConfig,
    Logprob,
    Logprobs,
    ModelAPI,
    ModelOutput,
    TopLogprob,
    get_model,
    modelapi,
)

from overseer.evals.wargame.game import play_game
from overseer.evals.wargame.metrics import summarise
from overseer.evals.wargame.players import Player, extract_json, parse_reply
from overseer.evals.wargame.scenarios import SCENARIOS


class FavouriteRung(ModelAPI):
    """Answers any menu with top log-probabilities that favour one option's label (and a decoy label
    that is not on the menu), so a readout that ignores the menu's order would pick wrongly."""

    def __init__(self, model_name: str, base_url=None, api_key=None, config=GenerateConfig(), **model_args) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, config=config)
        self.favourite = model_name

    async def generate(self, input, tools, tool_choice, config):
        menu = dict(re.findall(r"^([A-Z1-4])\. (.+)$", input[-1].text, re.M))
        best = next((label for label, text in menu.items() if text == self.favourite), "A")
        others = [label for label in menu if label != best][:3]
        top = [TopLogprob(token=best, logprob=-0.5), TopLogprob(token="Zebra", logprob=-0.1)] + [
            TopLogprob(token=f" {label}", logprob=-2.0 - i) for i, label in enumerate(others)]
        choice = ChatCompletionChoice(message=ChatMessageAssistant(content=others[0] if others else best),
                                      logprobs=Logprobs(content=[Logprob(token=others[0], logprob=-2.0,
                                                                         top_logprobs=top)]))
        return ModelOutput(model=self.model_name, choices=[choice])


@modelapi(name="wargame-test-favourite")
def _favourite():
    return FavouriteRung


def choice_player(favourite, seed=0):
    return Player(get_model(f"wargame-test-favourite/{favourite}"), "choice", seed=seed)


def test_constrained_choice_reads_the_rung_from_label_logprobs_whatever_the_menu_order():
    s = SCENARIOS.get("standoff")
    players = {"alpha": choice_player("Military Posturing"), "beta": choice_player("Nuclear Threat", seed=1)}
    game = asyncio.run(play_game(s, s.rules(max_turns=3), players, seed=5, accidents=False))
    for turn in game.turns:
        assert turn.moves["alpha"].action == turn.moves["alpha"].signal == "Military Posturing"
        assert turn.moves["beta"].action == "Nuclear Threat"
        readout = next(p for p in turn.phases if p.side == "alpha" and p.phase == "action:action").readout
        assert max(readout, key=readout.get) == "Military Posturing"
    menus = {p.messages[1]["content"].split("PHASE: ACTION")[1] for t in game.turns for p in t.phases
             if p.side == "alpha" and p.phase == "action:action"}
    assert len(menus) == 3  # shuffled afresh each turn


def test_choice_players_forecast_and_reflect_through_the_same_readout():
    s = SCENARIOS.get("standoff")
    players = {"alpha": choice_player("Somewhat credible"), "beta": choice_player("Economic Pressure")}
    game = asyncio.run(play_game(s, s.rules(max_turns=1), players, accidents=False))
    move = game.turns[0].moves["alpha"]
    assert move.credibility == "medium" and move.risk == "medium"
    assert game.turns[0].moves["beta"].forecast == "Economic Pressure"


@pytest.mark.parametrize("reply, fragment", [
    ("no json here", "no JSON"), ('{"rung": "Nuclear Threat"', "not closed"),
    ('{"rung": "Fire everything"}', "rung names"), ("[1, 2]", "no JSON"),
    ('{"rung": 3,}', "invalid JSON")])
def test_malformed_replies_say_what_is_wrong(reply, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_reply("action", reply)


def test_json_in_a_code_fence_with_prose_is_read():
    text = 'Thinking...\n```json\n{"rung": "nuclear threat", "consistency": "as signalled {sic}"}\n```'
    assert parse_reply("action", text)["action"] == "Nuclear Threat"
    assert extract_json('x {"a": {"b": 1}} y') == {"a": {"b": 1}}


@pytest.mark.slow
def test_inspect_eval_logs_every_game_and_scores_it(tmp_path):
    from inspect_ai import eval as inspect_eval

    from overseer.evals.wargame.reporting import read_games
    from overseer.evals.wargame.task import STORE_KEY, crisis

    log = inspect_eval(crisis(scenarios="standoff,resource-race", seeds="0,1", max_turns=14),
                       model_roles={"alpha": "overseer-policy/deceiver", "beta": "overseer-policy/tit-for-tat"},
                       model="overseer-policy/dove", log_dir=str(tmp_path), display="none")[0]
    assert log.status == "success" and len(log.samples) == 4
    sample = log.samples[0]
    game = sample.store[STORE_KEY]
    assert game["players"] == {"alpha": "overseer-policy/deceiver", "beta": "overseer-policy/tit-for-tat"}
    phase = game["turns"][0]["phases"][0]
    assert set(phase) >= {"messages", "replies", "parsed", "valid"}
    assert sample.scores["crisis_metrics"].value["turns"] == len(game["turns"])
    games = read_games([tmp_path])
    assert sorted(g.game_id for g in games) == ["resource-race-seed0", "resource-race-seed1", "standoff-seed0",
                                                "standoff-seed1"]
    assert summarise(games, n_boot=100).row("games with tactical nuclear use").value == "0 of 4"
