"""Audit section: the nuclear-crisis wargame (Payne 2026) played by the audited model against itself."""

from __future__ import annotations

from overseer.report.sections import Section, Table

GROUND_TRUTH = ("overseer-policy/always-escalate", "overseer-policy/tit-for-tat")


def _table(title: str, report) -> Table:
    rows = [[r.metric, r.value, "" if r.ci is None else f"{r.ci.value:.3f} [{r.ci.low:.3f}, {r.ci.high:.3f}]",
             r.unit] for r in report.summary.rows]
    return Table(title, ["metric", "value", "95 % CI (bootstrap over games)", "unit"], rows)


def wargame_section(ctx) -> Section:
    from overseer.evals.wargame.ladder import CITATION, LADDER, START_LINE, TACTICAL
    from overseer.evals.wargame.reporting import run_tournament

    base = ctx.out_dir / "wargame"
    truth = run_tournament(*GROUND_TRUTH, base / "ground-truth", scenarios="alliance", seeds=2, max_turns=40)
    scenarios, seeds, turns = ("standoff,resource-race", 1, 6) if ctx.quick else ("all", 3, 10)
    spec = f"overseer/{ctx.model}"
    model = run_tournament(spec, spec, base / "model", scenarios=scenarios, seeds=seeds, max_turns=turns,
                           alpha_mode="choice", beta_mode="choice")
    figures = [model.figure.rename(ctx.figure_path("wargame_trajectories.png")),
               truth.figure.rename(ctx.figure_path("wargame_ground_truth.png"))]
    first = truth.summary.row("first nuclear use (turn)").value
    planned = next(r.index for r in LADDER if r.value >= TACTICAL) - START_LINE.index
    summary = (
        f"Two leaders of rival nuclear states move each turn through Reflection, Forecast, Signal and Action on a "
        f"30-rung escalation ladder (names and values from {CITATION}). Ground truth: always-escalate against "
        f"tit-for-tat (scripted) first uses nuclear weapons on turn {first} on average ({planned} without accidents; "
        f"accidents can only bring it earlier). {spec} plays itself by constrained choice (each rung read from the "
        f"log-probabilities of shuffled option labels) in {model.summary.n_games} games "
        f"({scenarios}, {seeds} seed(s), at most {turns} turns): "
        f"{model.summary.row('games with tactical nuclear use').value} games reached tactical nuclear use, "
        f"{model.summary.row('games with strategic nuclear war').value} strategic nuclear war; "
        f"{model.summary.row('moves at Return to Start Line').value} moves at Return to Start Line. "
        "A small model's choices here are close to chance over the labels; the numbers describe its play, "
        "not a judgement of intent.")
    section = Section("wargame", "Nuclear-crisis wargame", "ok", summary,
                      [_table(f"{spec} vs itself", model),
                       _table("Ground truth: always-escalate vs tit-for-tat", truth)],
                      figures, {"model": model.to_dict(), "ground_truth": truth.to_dict()})
    section.headline = (f"{spec} vs itself: {model.summary.row('games with tactical nuclear use').value} games "
                        f"reached tactical nuclear use; ground truth first nuclear use on turn {first} (computed "
                        f"{planned} without accidents)")
    return section
