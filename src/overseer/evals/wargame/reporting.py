"""Reading games back (Inspect logs, overseer's games.json, Payne's CSVs), the tournament table, the
trajectory figure, and running a tournament or a round robin through `inspect_ai.eval`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import permutations
from pathlib import Path
from typing import Any

from overseer.errors import DatasetError, InvalidInputError
from overseer.evals.wargame.ladder import LADDER, rung_by_name
from overseer.evals.wargame.metrics import TournamentSummary, escalation_index, summarise
from overseer.evals.wargame.records import Game
from overseer.stats import Estimate

GAMES_FILE = "games.json"
_TICKS = ("Complete Surrender", "Return to Start Line", "Maximum Conventional Effort", "Limited Nuclear Use",
          "Strategic Nuclear War")


def _games_from_log(path: Path) -> list[Game]:
    from inspect_ai.log import read_eval_log

    from overseer.evals.wargame.task import STORE_KEY

    try:
        log = read_eval_log(str(path))
    except Exception as exc:  # Inspect raises several types for a file that is not a log
        raise DatasetError(f"{path} is not an Inspect log or a {GAMES_FILE}: {exc}") from exc
    return [Game.from_dict(s.store[STORE_KEY]) for s in log.samples or [] if STORE_KEY in (s.store or {})]


def read_games(paths: list[str | Path]) -> list[Game]:
    """Games from Inspect `.eval`/`.json` logs of `overseer/crisis`, `games.json` files, or directories of them."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.suffix in (".eval", ".json") and f.name != "summary.json")
        elif p.is_file():
            files.append(p)
        else:
            raise DatasetError(f"{p} does not exist; give crisis logs, a {GAMES_FILE} or a directory of them.")
    games: list[Game] = []
    for f in files:
        if f.name == GAMES_FILE:
            games += [Game.from_dict(g) for g in json.loads(f.read_text())]
        else:
            games += _games_from_log(f)
    if not games:
        raise DatasetError(f"no crisis games in {', '.join(map(str, paths))}; run `overseer wargame run` first.")
    return games


def plot_trajectories(games: list[Game], path: Path, max_games: int = 24) -> Path:
    """Per game: signalled (dashed) and actual (solid) rung per turn for both sides."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = games[:max_games]
    cols = min(3, len(shown))
    rows = -(-len(shown) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.2 * rows), squeeze=False, sharey=True)
    for ax, game in zip(axes.flat, shown, strict=False):
        turns = [t.turn for t in game.turns]
        for side, colour in (("alpha", "tab:blue"), ("beta", "tab:red")):
            moves = [t.moves[side] for t in game.turns]
            ax.plot(turns, [_rung_index(m.action) for m in moves], color=colour, marker="o", ms=3,
                    label=f"{side} action")
            ax.plot(turns, [_rung_index(m.signal) for m in moves], color=colour, ls="--", alpha=0.6,
                    label=f"{side} signal")
        who = " vs ".join(game.players.get(s, "?").split("/")[-1][:18] for s in ("alpha", "beta"))
        seed = "" if game.seed is None else f", seed {game.seed}"
        ax.set_title(f"{game.scenario}{seed}: {who}\n{game.outcome}" + (f" ({game.winner})" if game.winner else ""),
                     fontsize=8)
        ax.axhline(rung_by_name("Limited Nuclear Use").index - 0.5, color="grey", lw=0.6, ls=":")
        ax.set_xlabel("turn", fontsize=8)
    for ax in list(axes.flat)[len(shown):]:
        ax.axis("off")
    ticks = [rung_by_name(n) for n in _TICKS]
    for ax in axes[:, 0]:
        ax.set_yticks([r.index for r in ticks], [r.name for r in ticks], fontsize=7)
        ax.set_ylim(-0.5, len(LADDER) - 0.5)
    axes.flat[0].legend(fontsize=6, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _rung_index(name: str | None) -> float:
    try:
        return float(rung_by_name(name).index) if name else float("nan")
    except InvalidInputError:
        return float("nan")


@dataclass
class WargameReport:
    summary: TournamentSummary
    figure: Path | None
    out_dir: Path
    escalation: dict[str, Estimate] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary.to_dict(), "figure": str(self.figure) if self.figure else None,
                "escalation_index": {m: e.to_dict() for m, e in self.escalation.items()}, "logs": self.logs}


def report_games(games: list[Game], out_dir: Path, n_boot: int = 1000, logs: list[str] | None = None) -> WargameReport:
    """Table, escalation index and trajectory figure for `games`, written under `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = WargameReport(summarise(games, n_boot=n_boot), plot_trajectories(games, out_dir / "trajectories.png"),
                           out_dir, escalation_index(games, n_boot=n_boot), logs or [])
    (out_dir / "summary.json").write_text(json.dumps(report.to_dict(), indent=2, default=str))
    return report


def run_tournament(alpha: str, beta: str, out_dir: Path, scenarios: str = "all", seeds: int | str = 3,
                   max_turns: int = 40, open_ended: bool = False, alpha_mode: str = "json", beta_mode: str = "json",
                   retries: int = 2, **eval_args: Any) -> WargameReport:
    """Play `overseer/crisis` between two Inspect model specs and report it (logs under `out_dir/logs`)."""
    return _play([(alpha, beta)], out_dir, dict(scenarios=scenarios, seeds=seeds, max_turns=max_turns,
                 open_ended=open_ended, alpha_mode=alpha_mode, beta_mode=beta_mode, retries=retries), eval_args)


def round_robin(models: list[str], out_dir: Path, mode: str = "json", **options: Any) -> WargameReport:
    """Every ordered pair of different models (so each plays both sides), same scenarios and seeds."""
    if len(set(models)) < 2:
        raise InvalidInputError("a round robin needs at least two different models.")
    options.update(alpha_mode=mode, beta_mode=mode)
    eval_args = {k: options.pop(k) for k in list(options) if k not in _TASK_ARGS}
    return _play(list(permutations(dict.fromkeys(models), 2)), out_dir, options, eval_args)


_TASK_ARGS = ("scenarios", "seeds", "max_turns", "open_ended", "alpha_mode", "beta_mode", "retries", "accidents")


def _play(pairs: list[tuple[str, str]], out_dir: Path, task_args: dict[str, Any],
          eval_args: dict[str, Any]) -> WargameReport:
    from inspect_ai import eval as inspect_eval

    import overseer._inspect_registry  # noqa: F401  (overseer providers, also when not installed as a package)
    from overseer.evals.wargame.task import crisis

    logs = []
    for alpha, beta in pairs:
        for log in inspect_eval(crisis(**task_args), model_roles={"alpha": alpha, "beta": beta}, model=alpha,
                                log_dir=str(out_dir / "logs"), **{"display": "none", **eval_args}):
            if log.status != "success":
                raise InvalidInputError(f"the crisis run {alpha} vs {beta} ended {log.status}: {log.error}")
            logs.append(log.location)
    games = read_games(logs)
    (out_dir / GAMES_FILE).write_text(json.dumps([g.to_dict() for g in games]))
    return report_games(games, out_dir, logs=logs)
