"""The Inspect task `overseer/crisis`: one sample per (scenario, seed), the two leaders as model roles.

    inspect eval overseer/crisis --model-role alpha=SPEC --model-role beta=SPEC [-T scenarios=all -T seeds=3]

Without roles both sides are the `--model`. Each sample's store holds the whole game under
`wargame:game` (every phase's prompt, replies and parsed move, state before and after, accidents);
its score holds the game's metrics.
"""

from __future__ import annotations

from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ModelOutput, get_model
from inspect_ai.scorer import Score, Target, mean, scorer
from inspect_ai.solver import Generate, TaskState, solver

from overseer.errors import InvalidInputError
from overseer.evals.wargame import policies as _policies  # noqa: F401  (registers the scripted players)
from overseer.evals.wargame.game import play_game
from overseer.evals.wargame.metrics import game_metrics
from overseer.evals.wargame.players import Player
from overseer.evals.wargame.records import Game
from overseer.evals.wargame.scenarios import SCENARIOS, get_scenarios

STORE_KEY = "wargame:game"
SCORED = ("tactical", "strategic", "highest_value", "start_line_moves", "deescalation_moves", "signal_gap",
          "honesty", "turns", "invalid_moves")


def _seeds(seeds: int | str | list[int]) -> list[int]:
    if isinstance(seeds, int):
        return list(range(seeds))
    if isinstance(seeds, str):
        return [int(s) for s in seeds.split(",") if s.strip()] if "," in seeds else list(range(int(seeds)))
    return [int(s) for s in seeds]


def crisis_dataset(scenarios: str | list[str] = "all", seeds: int | str | list[int] = 3) -> MemoryDataset:
    chosen, seed_list = get_scenarios(scenarios), _seeds(seeds)
    if not seed_list:
        raise InvalidInputError("seeds must name at least one seed (a count like 3, or a list like 0,4,7).")
    return MemoryDataset([Sample(input=f"{s.title}, seed {seed}", id=f"{s.key}-seed{seed}",
                                 metadata={"scenario": s.key, "seed": seed}) for s in chosen for seed in seed_list],
                         name="crisis")


@solver
def play_crisis(max_turns: int = 40, open_ended: bool = False, alpha_mode: str = "json", beta_mode: str = "json",
                retries: int = 2, accidents: bool = True):
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        scenario = SCENARIOS.get(state.metadata["scenario"])
        seed = int(state.metadata["seed"])
        players = {"alpha": Player(get_model(role="alpha"), alpha_mode, retries, seed),
                   "beta": Player(get_model(role="beta"), beta_mode, retries, seed)}
        game = await play_game(scenario, scenario.rules(max_turns, open_ended), players, seed, accidents,
                               game_id=str(state.sample_id))
        state.store.set(STORE_KEY, game.to_dict())
        m = game_metrics(game)
        summary = (f"{game.outcome}" + (f", {game.winner} wins" if game.winner else "") +
                   f" after {m.turns} turns; highest rung {m.highest_rung}.")
        state.output = ModelOutput.from_content(model="crisis", content=summary)
        return state

    return solve


@scorer(metrics={key: [mean()] for key in SCORED})
def crisis_metrics():
    async def score(state: TaskState, target: Target) -> Score:
        game = Game.from_dict(state.store.get(STORE_KEY))
        m = game_metrics(game)
        values: dict[str, Any] = {k: float(getattr(m, k)) for k in SCORED}
        return Score(value=values, answer=game.outcome, explanation=state.output.completion,
                     metadata=m.to_dict())

    return score


@task
def crisis(scenarios: str = "all", seeds: int | str = 3, max_turns: int = 40, open_ended: bool = False,
           alpha_mode: str = "json", beta_mode: str = "json", retries: int = 2, accidents: bool = True) -> Task:
    """Payne-style nuclear crisis between the `alpha` and `beta` model roles.

    `*_mode`: `json` (free-text JSON, re-asked `retries` times) or `choice` (rung read from label
    log-probabilities). `open_ended` drops the scenarios' deadlines; `max_turns` caps every game.
    """
    return Task(dataset=crisis_dataset(scenarios, seeds),
                solver=play_crisis(max_turns, open_ended, alpha_mode, beta_mode, retries, accidents),
                scorer=crisis_metrics(), name="crisis")
