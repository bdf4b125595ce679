"""Read the per-turn CSVs of Payne's published tournament (see `ladder.CITATION`) into `Game` records.

One file is one game, one row one turn; side A is alpha, side B beta. A row without actions (some
files end with a row that only records the end of the game) adds no turn. The file name carries
the two models (`kahn_game_<version>_<A>_vs_<B>_agg_...`).
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

from overseer.errors import DatasetError
from overseer.evals.wargame.ladder import BY_VALUE, find_rung
from overseer.evals.wargame.records import Game, Move, Turn

REQUIRED = ("turn", "scenario", "territory_balance") + tuple(
    f"{s}_{c}" for s in "ab" for c in ("action_value", "action_rung", "immediate_signal_value"))
_NAME = re.compile(r"kahn_game_[^_]+_(.+?)_vs_(.+?)_agg_")


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return None if value is None or math.isnan(value) else value


def _move(row: dict[str, str], s: str) -> Move:
    state = f"state_{s}"
    signal_value = _number(row.get(f"{s}_immediate_signal_value"))
    action_value = _number(row.get(f"{s}_action_value"))
    signal = BY_VALUE.get(int(signal_value)) if signal_value is not None and signal_value in BY_VALUE else None
    action = find_rung(row.get(f"{s}_action_rung", "")) or BY_VALUE.get(int(action_value or 0))
    forecast = find_rung(row.get(f"{s}_predicted_opponent_action", "") or "")
    accident = row.get(f"{s}_accident", "").strip().lower() == "true"
    return Move(signal=signal.name if signal else None, signal_value=signal_value,
                action=action.name if action else None, action_value=action_value,
                accident={"intended": None, "actual": action.name if action else None} if accident else None,
                forecast=forecast.name if forecast else None,
                forecast_confidence=row.get(f"{s}_predictive_confidence") or None,
                risk=row.get(f"{state}_forecast_miscalculation_risk") or None,
                credibility=row.get(f"{s}_assessed_opponent_immediate_credibility") or None,
                statement=row.get(f"{state}_public_statement", ""),
                conditional=row.get(f"{s}_conditional_signal_text", ""),
                consistency=row.get(f"{state}_action_consistency_statement", ""))


def _outcome(reason: str, territory: float) -> tuple[str, str | None]:
    text = reason.lower()
    if "strategic nuclear" in text or "mutual assured" in text:
        return "strategic nuclear war", None
    if "territorial victory" in text:
        return "territorial victory", "alpha" if "state a" in text else "beta"
    if "deadline" in text:
        return "deadline", None if territory == 0 else ("alpha" if territory > 0 else "beta")
    return "turn limit", None


def read_kahn_game(path: str | Path) -> Game:
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"cannot read {path}: {exc}. Give one of the published kahn_game_*.csv files.") from exc
    if not rows:
        raise DatasetError(f"{path} has no turns; give one of the published kahn_game_*.csv files.")
    missing = [c for c in REQUIRED if c not in rows[0]]
    if missing:
        raise DatasetError(f"{path} lacks the columns {missing}; it is not a Kahn tournament game CSV.")
    match = _NAME.search(path.name)
    players = {"alpha": match.group(1), "beta": match.group(2)} if match else {"alpha": "A", "beta": "B"}
    game = Game(path.stem, rows[0]["scenario"], players, source="kahn")
    for row in rows:
        if _number(row["a_action_value"]) is None or _number(row["b_action_value"]) is None:
            continue
        after = {"turn": int(float(row["turn"])), "territory": _number(row["territory_balance"]),
                 "forces": {side: {"conventional": _number(row.get(f"{s}_conventional_power")),
                                   "nuclear": _number(row.get(f"{s}_nuclear_power"))}
                            for side, s in (("alpha", "a"), ("beta", "b"))}}
        game.turns.append(Turn(after["turn"], {"alpha": _move(row, "a"), "beta": _move(row, "b")},
                               state_after=after))
    if not game.turns:
        raise DatasetError(f"{path} has no turn with both actions; it is not a Kahn tournament game CSV.")
    territory = game.turns[-1].state_after["territory"] or 0.0
    game.outcome, game.winner = _outcome(rows[-1].get("end_reason") or "", territory)
    return game


def read_kahn_games(paths: list[str | Path]) -> list[Game]:
    """Games from files and directories (a directory contributes its `kahn_game_*.csv`, sorted)."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(p.glob("kahn_game_*.csv"))
        elif p.is_file():
            files.append(p)
        else:
            raise DatasetError(f"{p} does not exist; give a directory of kahn_game_*.csv files or the files.")
    if not files:
        raise DatasetError(f"no kahn_game_*.csv files in {', '.join(map(str, paths))}.")
    return [read_kahn_game(f) for f in files]
