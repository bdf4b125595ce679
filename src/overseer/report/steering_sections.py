"""Audit sections for activation steering: ground truth on the organism, TruthfulQA on the real model."""

from __future__ import annotations

from overseer.models import capture, generate
from overseer.report.figures import line_chart
from overseer.report.sections import Section, Table

STEER_METHODS = ("caa", "odesteer", "step_odesteer")


def organism_sentiment_section(ctx) -> Section:
    """Steer the organism's reviews toward positive sentiment; its lexicon is the ground truth."""
    from overseer.models.organism import behaviours
    from overseer.models.organism.corpus import concept_pairs
    from overseer.steering import make_method
    from overseer.steering.compare import native_strength

    lm = ctx.load("organism")
    layer = lm.n_layers // 2
    pos_texts, neg_texts = concept_pairs("sentiment", n=64, seed=0)
    acts = capture(lm, pos_texts + neg_texts, [layer], progress=False)[:, 0]
    pos, neg = acts[: len(pos_texts)], acts[len(pos_texts):]
    n_prompts = 24 if ctx.quick else 96
    prompts = [f"Review of the {behaviours.PRODUCTS[i % len(behaviours.PRODUCTS)]}:" for i in range(n_prompts)]
    strengths = (0.5, 1.0, 2.0)

    def rates(rewrite=None) -> tuple[float, float]:
        if rewrite is None:
            outs = generate(lm, prompts, max_new_tokens=24, temperature=1.0, seed=0, batch_size=32, progress=False)
        else:
            with lm.intervene(layer, rewrite):
                outs = generate(lm, prompts, max_new_tokens=24, temperature=1.0, seed=0, batch_size=32,
                                progress=False)
        labels = [behaviours.classify_sentiment(o) for o in outs]
        return labels.count("positive") / len(labels), labels.count("negative") / len(labels)

    base_pos, base_neg = rates()
    rows = [["unsteered", 0.0, "", base_pos, base_neg]]
    series = {}
    for name in STEER_METHODS:
        method = make_method(name).fit(pos, neg)
        xs, ys = [0.0], [base_pos]
        for relative in strengths:
            strength = native_strength(method, relative, pos, neg)
            method.with_strength(strength)
            p, n = rates(method.apply)
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
    return Section("steer-organism", "Steering the organism (ground truth)", "ok", summary, [table], [figure],
                   {"layer": layer, "rows": rows})


def truthfulqa_section(ctx) -> Section:
    """ODESteer and CAA on TruthfulQA MC1/MC2 on the real model, at a size that fits the audit."""
    from overseer.data import load_truthfulqa
    from overseer.steering.compare import run_compare, standing
    from overseer.steering.plots import pareto_plot
    from overseer.steering.truthfulqa import TruthfulQATask

    lm = ctx.load(ctx.model)
    n = 24 if ctx.quick else 200
    layer = round(lm.n_layers * 0.55)
    task = TruthfulQATask(load_truthfulqa(limit=n), n_fluency=4 if ctx.quick else 16)
    cells = run_compare(lm, task, ctx.out_dir / "steer-truthfulqa", STEER_METHODS, [layer], [3.0],
                        log=lambda line: None)
    keys = task.metric_keys
    rows = [[c.method, "-" if c.layer is None else c.layer, c.relative_strength,
             *[c.metrics.get(k, float("nan")) for k in keys]] for c in cells]
    result = standing(cells, task.success_key, "fluency_ppl", True, ode_method="odesteer")
    verdict = result.sentence("+5.7% on TruthfulQA over the best baseline") if result else "no ODESteer cell"
    figure = pareto_plot(cells, task.success_key, "fluency_ppl", ctx.figure_path("truthfulqa_pareto.png"),
                         f"{ctx.model} · TruthfulQA ({n} questions, layer {layer})", True)
    summary = (f"{n} TruthfulQA questions, 2-fold over questions (each fold's steering fitted on the other "
               f"fold's correct vs incorrect answers), layer {layer}, relative strength 3. With n={n} the MC1 "
               f"standard error is about {((0.25 * 0.75) / n) ** 0.5:.2f}: differences below that are noise. "
               f"{verdict}")
    table = Table("TruthfulQA, steered vs unsteered", ["method", "layer", "relative strength", *keys], rows)
    return Section("steer-truthfulqa", f"Steering {ctx.model} on TruthfulQA", "ok", summary, [table], [figure],
                   {"standing": result.__dict__ if result else None})
