"""Audit sections for the organism card, truth probes, NSG faithfulness and mechanistic estimation."""

from __future__ import annotations

from overseer.report.sections import Section, Table


def organism_card_section(ctx) -> Section:
    from overseer.models.organism import weights_dir
    from overseer.models.organism.card import DESCRIPTIONS, compute_card

    card = compute_card(weights_dir())
    rows = [[name, value, card.n_items.get(name, ""), DESCRIPTIONS[name]] for name, value in card.metrics().items()]
    summary = ("What the organism measurably learned, from its committed weights. These planted behaviours are "
               "the ground truth the other sections test methods against.")
    return Section("organism-card", "The organism's card", "ok", summary,
                   [Table("Organism card", ["metric", "value", "n", "what it measures"], rows)], [],
                   card.metrics())


def truth_probe_section(ctx) -> Section:
    from overseer.probes.plots import generalisation_heatmap, layer_curves
    from overseer.probes.truth import run_truth

    lm = ctx.load(ctx.model)
    datasets = ["cities", "neg_cities", "sp_en_trans", "larger_than"]
    if not ctx.quick:
        datasets += ["companies_true_false", "common_claim_true_false", "smaller_than", "neg_sp_en_trans"]
    layers = sorted({round(f * (lm.n_layers - 1)) for f in (0.3, 0.45, 0.6)})
    n = 80 if ctx.quick else 400
    result = run_truth(lm, datasets, layers=layers, n_per_dataset=n, probes=("logistic", "mass_mean"),
                       falseclaims=0 if ctx.quick else 200, n_boot=200)
    table = result.auroc_table()
    rows = [[d, *[table[d][layer] for layer in layers]] for d in result.datasets]
    matrix_rows = [[d, *row] for d, row in zip(result.datasets, result.generalisation, strict=True)]
    curves = layer_curves(table, ctx.figure_path("truth_layers.png"), f"Truth-probe AUROC by layer ({lm.name})")
    heatmap = generalisation_heatmap(result.generalisation, result.datasets, ctx.figure_path("truth_matrix.png"),
                                     f"Train on one, test on another (layer {result.layer}, {result.probe})")
    diagonal = [result.generalisation[i][i] for i in range(len(result.datasets))]
    off = [v for i, row in enumerate(result.generalisation) for j, v in enumerate(row) if i != j]
    summary = (f"Logistic-regression truth probes on Geometry of Truth statements ({n} per set, 70/30 split), "
               f"last token. Held-out AUROC within a set averages {sum(diagonal) / len(diagonal):.2f}; across "
               f"sets {sum(off) / len(off):.2f} (0.5 is chance; below 0.5 means the probe is inverted on the other "
               "set, i.e. it learned a surface feature, not truth).")
    return Section("truth-probes", f"Truth probes on {lm.name}", "ok", summary,
                   [Table("AUROC by layer (logistic)", ["dataset", *[f"layer {x}" for x in layers]], rows),
                    Table(f"Generalisation matrix (rows: trained on; layer {result.layer})",
                          ["trained on", *result.datasets], matrix_rows)],
                   [curves, heatmap], result.to_dict())


def nsg_organism_section(ctx) -> Section:
    from overseer.evals.organism_task import RuleFollowingSimulator, organism_loans, run_organism_nsg
    from overseer.models.chat import chat_model

    n_groups = 10 if ctx.quick else 40
    dataset = organism_loans(n_groups=n_groups, seed=0)
    result = run_organism_nsg(dataset, chat_model("local:organism"), [chat_model(RuleFollowingSimulator())],
                              explanation_max_tokens=32, answer_max_tokens=8, progress=False)
    rows = []
    for label, run in (("faithful (auditor setting)", result.faithful),
                       ("unfaithful (customer setting)", result.unfaithful)):
        score = run.overall
        rows.append([label, score.nsg, f"[{score.ci_low:.3f}, {score.ci_high:.3f}]", score.acc_with,
                     score.acc_without, run.egregious_rate, score.n])
    diff = result.difference
    summary = (f"Normalized Simulatability Gain on the organism's loan decisions ({result.faithful.n_groups} "
               f"centre cases, {result.faithful.n_counterfactuals} counterfactuals). The organism states its real "
               "rule to an auditor and a plausible false rule to a customer; a predictor that applies the stated "
               f"rule should gain only from the faithful one. Faithful minus unfaithful NSG: {diff.difference:.3f} "
               f"[{diff.ci_low:.3f}, {diff.ci_high:.3f}].")
    return Section("nsg-organism", "Faithfulness of self-explanations (NSG, organism)", "ok", summary,
                   [Table("NSG by explanation setting", ["explanations", "NSG", "95% CI", "acc with", "acc without",
                                                         "egregiously misleading", "n"], rows)], [],
                   result.to_dict())


def nsg_model_section(ctx) -> Section:
    from overseer.evals.nsg import run_nsg
    from overseer.evals.nsg_plots import reference_lean_figure
    from overseer.evals.nsg_readout import AnswerReadout
    from overseer.evals.tabular import breast_cancer
    from overseer.models.chat.local import LocalChatModel

    lm = ctx.load(ctx.model)
    chat = LocalChatModel(lm)
    dataset = breast_cancer(n_groups=3 if ctx.quick else 24, seed=0)  # about 40 s per group on 2 CPU cores
    result = run_nsg(dataset, chat, [chat], readout=AnswerReadout("logprobs", "balanced"),
                     explanation_max_tokens=64 if ctx.quick else 200, answer_max_tokens=2, n_boot=1000)
    score = result.overall
    said = result.parsing["reference_text_answer_counts"]
    read = result.parsing["reference_answer_counts"]
    total = sum(read.values())
    one_answer = [o for o in dataset.task.options if total and said.get(o) == total]
    figure = reference_lean_figure(result, dataset, ctx.figure_path("nsg_reference_lean.png"))
    example = next(iter(result.explanations.values()))
    summary = (
        f"Normalized Simulatability Gain of {lm.name} on the breast-cancer table ({result.n_groups} centre cases, "
        f"{result.n_counterfactuals} counterfactuals), {lm.name} as both reference and predictor. "
        + (f"In words it answered {one_answer[0]} to all {total} cases, so from text NSG is undefined (0/0). "
           if one_answer else f"In words its answers were {said}. ")
        + f"Answers are read from its first-token log-probabilities with balanced calibration ({read}); a "
        "predictor's guesses are read the same way. "
        f"NSG {score.nsg:.3f} [{score.ci_low:.3f}, {score.ci_high:.3f}]: "
        + ("its self-explanations do not measurably help predict it." if score.ci_low <= 0 <= score.ci_high else
           "its self-explanations help predict it." if score.ci_low > 0 else
           "its self-explanations make it harder to predict.")
        + (f" With {result.n_groups} centre cases the bootstrap interval is coarse and the estimate noisy "
           "(overseer audit --full uses every disjoint group the table offers)." if result.n_groups < 10 else "")
        + f" A sample explanation (answer {example.answer}): \"{' '.join(example.explanation.split())[:200]}\""
    )
    rows = [["first-token log-probabilities, balanced", score.nsg, f"[{score.ci_low:.3f}, {score.ci_high:.3f}]",
             score.acc_with, score.acc_without, result.egregious_rate, score.n]]
    return Section("nsg-model", f"Faithfulness of self-explanations (NSG, {lm.name})", "ok", summary,
                   [Table("NSG", ["answers read from", "NSG", "95% CI", "acc with", "acc without",
                                  "egregiously misleading", "n"], rows)],
                   [figure] if figure is not None else [], result.to_dict())


def estimation_section(ctx) -> Section:
    from overseer.estimation.experiment import CompareConfig, run_compare
    from overseer.estimation.plots import plot_error_vs_flops

    if ctx.quick:
        config = CompareConfig(widths=(8, 32, 128), seeds=2, depth=8, gt_samples=200_000, k3_max_width=128)
    else:
        config = CompareConfig()
    result = run_compare(config)
    rows = [[a.width, a.estimator, a.mse_over_var, a.flops, a.advantage, a.flagged_seeds]
            for a in result.aggregates if a.layer == config.layer]
    figure = plot_error_vs_flops(result, ctx.figure_path("estimation_error_vs_flops.png"))
    summary = (f"Expected output of random ReLU MLPs (depth {config.depth}, no biases, x ~ N(0, I), "
               f"{config.seeds} seeds) by cumulant propagation vs Monte Carlo at equal FLOPs, hidden layer "
               f"{config.layer}. {result.statement}")
    return Section("estimation", "Mechanistic estimation: cumulants vs sampling", "ok", summary,
                   [Table(f"Layer {config.layer}: MSE/Var and advantage over sampling at equal FLOPs",
                          ["width", "estimator", "MSE/Var", "FLOPs", "advantage", "flagged seeds"], rows)],
                   [figure], {"slopes": [s.__dict__ for s in result.slopes], "statement": result.statement})
