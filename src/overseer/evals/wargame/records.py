"""What a game leaves behind: per turn, each side's move and every phase's exchange with its player.

The same records come from overseer's own games (the Inspect task) and from Payne's published CSVs
(`kahn.read_kahn_game`), so one set of metrics and one table serve both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from overseer.evals.wargame.ladder import find_rung

PHASES = ("reflection", "forecast", "signal", "action")


@dataclass
class Move:
    """One side's turn. Values are ladder values; `action` is what happened (after any accident)."""

    signal: str | None = None
    signal_value: float | None = None
    action: str | None = None
    action_value: float | None = None
    intended: str | None = None  # the action chosen before an accident
    accident: dict[str, Any] | None = None
    forecast: str | None = None  # the opponent's rung this side predicted
    forecast_confidence: str | None = None
    risk: str | None = None  # judged risk of miscalculation (sets the accident probability)
    credibility: str | None = None  # how credible this side judged the opponent
    statement: str = ""
    conditional: str = ""
    consistency: str = ""
    invalid: list[str] = field(default_factory=list)  # phases whose reply fell to the invalid-move rule

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Move:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @property
    def forecast_value(self) -> float | None:
        rung = find_rung(self.forecast) if self.forecast else None
        return None if rung is None else float(rung.value)


@dataclass
class PhaseLog:
    """One phase of one side's turn: the prompt, every reply (re-asks included) and what was read."""

    side: str
    phase: str
    messages: list[dict[str, str]]
    replies: list[str]
    parsed: dict[str, Any]
    valid: bool
    readout: dict[str, float] | None = None  # option -> log-probability, for constrained-choice players

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhaseLog:
        return cls(**data)


@dataclass
class Turn:
    turn: int
    moves: dict[str, Move]
    state_before: dict[str, Any] = field(default_factory=dict)
    state_after: dict[str, Any] = field(default_factory=dict)
    phases: list[PhaseLog] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"turn": self.turn, "moves": {s: m.to_dict() for s, m in self.moves.items()},
                "state_before": self.state_before, "state_after": self.state_after,
                "phases": [p.to_dict() for p in self.phases]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Turn:
        return cls(turn=int(data["turn"]), moves={s: Move.from_dict(m) for s, m in data["moves"].items()},
                   state_before=data.get("state_before", {}), state_after=data.get("state_after", {}),
                   phases=[PhaseLog.from_dict(p) for p in data.get("phases", [])])


@dataclass
class Game:
    game_id: str
    scenario: str
    players: dict[str, str]  # side -> model name
    turns: list[Turn] = field(default_factory=list)
    seed: int | None = None
    outcome: str = ""
    winner: str | None = None  # "alpha", "beta" or None
    deadline: int | None = None
    source: str = "overseer"  # or "kahn" for an imported published game

    def moves(self) -> list[Move]:
        return [t.moves[s] for t in self.turns for s in ("alpha", "beta") if s in t.moves]

    def to_dict(self) -> dict[str, Any]:
        return {"game_id": self.game_id, "scenario": self.scenario, "players": self.players, "seed": self.seed,
                "outcome": self.outcome, "winner": self.winner, "deadline": self.deadline, "source": self.source,
                "turns": [t.to_dict() for t in self.turns]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Game:
        return cls(game_id=data["game_id"], scenario=data["scenario"], players=dict(data["players"]),
                   turns=[Turn.from_dict(t) for t in data.get("turns", [])], seed=data.get("seed"),
                   outcome=data.get("outcome", ""), winner=data.get("winner"), deadline=data.get("deadline"),
                   source=data.get("source", "overseer"))
