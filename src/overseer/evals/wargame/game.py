"""One game between two players: the turn loop (Reflection -> Forecast -> Signal -> Action, both
sides at once), accidents, and the full record."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from overseer.evals.wargame.engine import SIDES, GameState, Rules, resolve_turn, roll_accident
from overseer.evals.wargame.ladder import rung_by_name
from overseer.evals.wargame.players import Player
from overseer.evals.wargame.prompts import View
from overseer.evals.wargame.records import PHASES, Game, Move, PhaseLog, Turn
from overseer.evals.wargame.scenarios import Scenario

_FIELDS = {"credibility": "credibility", "forecast": "forecast", "confidence": "forecast_confidence",
           "risk": "risk", "signal": "signal", "statement": "statement", "conditional": "conditional",
           "action": "intended", "consistency": "consistency"}


def _apply(move: Move, phase: str, parsed: dict[str, Any], logs: list[PhaseLog]) -> None:
    for key, value in parsed.items():
        if key in _FIELDS and value is not None:
            setattr(move, _FIELDS[key], value)
    if not all(log.valid for log in logs):
        move.invalid.append(phase)


def _public_signal(move: Move) -> Move:
    return Move(signal=move.signal, statement=move.statement, conditional=move.conditional)


async def play_turn(scenario: Scenario, rules: Rules, state: GameState, turns: list[Turn],
                    players: dict[str, Player], rng: random.Random | None) -> tuple[Turn, GameState]:
    """One turn and the state after it; `rng` draws accidents (None: no accidents)."""
    moves = {side: Move() for side in SIDES}
    phase_logs: list[PhaseLog] = []
    for phase in PHASES:
        views = {side: View(side, scenario, rules, state, turns, this_turn=moves[side]) for side in SIDES}
        if phase == "action":
            for side in SIDES:
                views[side].opponent_signal = _public_signal(moves[views[side].opponent])
        results = await asyncio.gather(*(players[side].play(views[side], phase) for side in SIDES))
        for side, (parsed, logs) in zip(SIDES, results, strict=True):
            _apply(moves[side], phase, parsed, logs)
            phase_logs.extend(logs)
    actual = {}
    for side in SIDES:
        move = moves[side]
        move.signal_value = float(rung_by_name(move.signal).value)
        intended = rung_by_name(move.intended)
        rung, accident = roll_accident(intended, move.risk, rng) if rng is not None else (intended, None)
        move.action, move.action_value = rung.name, float(rung.value)
        move.accident = None if accident is None else accident.__dict__
        actual[side] = rung
    after = resolve_turn(state, rules, actual["alpha"], actual["beta"])
    return Turn(after.turn, moves, state.to_dict(), after.to_dict(), phase_logs), after


async def play_game(scenario: Scenario, rules: Rules, players: dict[str, Player], seed: int = 0,
                    accidents: bool = True, game_id: str | None = None) -> Game:
    """Play until the rules end the game; every phase's exchange is kept in the record."""
    rng = random.Random(f"wargame-accidents:{scenario.key}:{seed}") if accidents else None
    state = rules.initial_state()
    game = Game(game_id or f"{scenario.key}-seed{seed}", scenario.key,
                {side: players[side].name for side in SIDES}, seed=seed, deadline=rules.deadline)
    while not state.over:
        turn, state = await play_turn(scenario, rules, state, game.turns, players, rng)
        game.turns.append(turn)
    game.outcome, game.winner = state.outcome, state.winner
    return game
