"""Payne-style nuclear crisis wargame: two models lead rival nuclear states (`overseer/crisis`).

Library entry points: `play_game` (one game), `run_tournament` / `round_robin` (through
`inspect_ai.eval`), `read_games` (logs back), `read_kahn_games` (the paper's published games),
`summarise` (tournament table with bootstrap CIs over games), `plot_trajectories`.
"""

from overseer.evals.wargame.game import play_game
from overseer.evals.wargame.kahn import read_kahn_game, read_kahn_games
from overseer.evals.wargame.ladder import CITATION, LADDER
from overseer.evals.wargame.metrics import escalation_index, game_metrics, summarise
from overseer.evals.wargame.records import Game, Move, PhaseLog, Turn
from overseer.evals.wargame.reporting import plot_trajectories, read_games, report_games, round_robin, run_tournament
from overseer.evals.wargame.scenarios import SCENARIOS

__all__ = ["CITATION", "LADDER", "SCENARIOS", "Game", "Move", "PhaseLog", "Turn", "escalation_index", "game_metrics",
           "play_game", "plot_trajectories", "read_games", "read_kahn_game", "read_kahn_games", "report_games",
           "round_robin", "run_tournament", "summarise"]
