"""Audit sections for activation steering: ground truth on the organism, TruthfulQA on the real model."""

from __future__ import annotations

from contextlib import nullcontext

from overseer.models import generate
from overseer.report.figures import line_chart
from overseer.report.sections import Section, Table

STEER_METHODS = ("caa", "odesteer", "step_odesteer")


def organism_sentiment_section(ctx) -> Section:
    """Steer the organism's reviews toward positive sentiment; its lexicon is the ground truth."""
    from overseer.models.organism import behaviours
    from overseer.steering.compare import native_strength
    from overseer.steering.fitting import fit_method, load_contrastive

    lm = ctx.load("organism")
    layer = lm.n_layers // 2
    pos_texts, neg_texts = load_contrastive(dataset="organism:sentiment", limit=64)
    n_prompts = 24 if ctx.quick else 96
    prompts = [f"Review of the {behaviours.PRODUCTS[i % len(behaviours.PRODUCTS)]}:" for i in range(n_prompts)]
    strengths = (0.5, 1.0, 2.0)

    def rates(method=None, strength: float = 0.0) -> tuple[float, float]:
        with method.steer(lm, strength) if method is not None else nullcontext():
            outs = generate(lm, prompts, max_new_tokens=24, temperature=1.0, seed=0, batch_size=32, progress=False)
        labels = [behaviours.classify_sentiment(o) for o in outs]
        return labels.count("positive") / len(labels), labels.count("negative") / len(labels)

    base_pos, base_neg = rates()
    rows = [["unsteered", 0.0, "", base_pos, base_neg]]
    series = {}
    for name in STEER_METHODS:
        method = fit_method(lm, name, layer, pos_texts, neg_texts, progress=False)
        xs, ys = [0.0], [base_pos]
        for relative in strengths:
            strength = native_strength(method, relative)
            p, n = rates(method, strength)
            rows.append([name, relative, f"{strength:.3g}", p, n])
            xs.append(relative)
            ys.append(p)
        series[name] = (xs, ys)
    figure = line_chart(series, ctx.figure_path("organism_sentiment_steering.png"),
                        f"Steering the organism toward positive reviews (layer {layer}, {n_prompts} prompts)",
                        "relative strength (x distance between class means)", "share of positive reviews",
                        (0, 1.05))
    summary = (f"Fitted on 64 positive vs 64 negative organism reviews at layer {layer}; reviews sampled at "
               f"temperature 1.0 from '{prompts[0]}'-style prompts and labelled by the organism's own sentiment "
               f"lexicon (the planted ground truth). Unsteered, {base_pos:.0%} of reviews are positive.")
    table = Table("Share of positive / negative reviews by method and strength",
                  ["method", "relative strength", "native strength", "positive", "negative"], rows)
    section = Section("steer-organism", "Steering the organism (ground truth)", "ok", summary, [table], [figure],
                      {"layer": layer, "rows": rows})
    section.headline = (f"positive reviews: unsteered {base_pos:.0%}; at relative strength {strengths[-1]:g} "
                        + ", ".join(f"{r[0]} {r[3]:.0%}" for r in rows if r[1] == strengths[-1]))
    return section


TRUTHFULQA_FULL = 817


def truthfulqa_layer(lm) -> int:
    return round(lm.n_layers * 0.55)


def truthfulqa_size(quick: bool, scale: float = 1.0) -> int:
    """24 questions quick; --full: all 817 (as in the paper), times `scale` for benches."""
    return 24 if quick else max(8, min(TRUTHFULQA_FULL, round(TRUTHFULQA_FULL * scale)))


def truthfulqa_section(ctx) -> Section:
    """ODESteer and CAA on TruthfulQA MC1/MC2 on the real model: 24 questions quick, all 817 with --full
    (honours `ctx.scale` in --full)."""
    from overseer.steering.compare import compare_methods, make_task

    lm = ctx.load(ctx.model)
    n = truthfulqa_size(ctx.quick, getattr(ctx, "scale", 1.0))
    layer = truthfulqa_layer(lm)
    task = make_task("truthfulqa", n, n_fluency=4 if ctx.quick else 16)
    result = compare_methods(lm, task, ctx.out_dir / "steer-truthfulqa", STEER_METHODS, [layer], [3.0],
                             log=lambda line: None)
    ode = next((s for s in result.standings if s.method == "odesteer"), None)
    verdict = ode.sentence("+5.7% on TruthfulQA over the best baseline") if ode else "no ODESteer cell"
    summary = (f"{n} TruthfulQA questions, 2-fold over questions (each fold's steering fitted on the other "
               f"fold's correct vs incorrect answers), layer {layer}, relative strength 3. Every number carries a "
               f"95 % bootstrap CI over questions; differences are paired bootstrap CIs over the same questions, "
               f"and a verdict is only 'ahead' or 'behind' when its CI excludes zero. {verdict}")
    section = Section("steer-truthfulqa", f"Steering {ctx.model} on TruthfulQA", "ok", summary,
                      [result.to_table("TruthfulQA, steered vs unsteered")], [result.plot],
                      {"standing": ode.to_dict() if ode else None,
                       "cells": [c.to_dict(with_samples=False) for c in result.cells]})
    from overseer.report.claims import odesteer_claim

    diff = ode.vs_baseline if ode else None
    section.headline = (f"ODESteer {ode.success_key} {ode.ode_success:.3f} vs unsteered {ode.unsteered_success:.3f}"
                        f"; vs the best equal-cost baseline: {ode.verdict or 'no baseline'}" if ode
                        else "no ODESteer cell")
    section.claims = [odesteer_claim(diff.value if diff else None, diff.low if diff else None,
                                     diff.high if diff else None, ode.baseline_cell if ode else None,
                                     diff.n if diff else None, ode.higher_is_better if ode else True)]
    return section
