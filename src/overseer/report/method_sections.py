"""Audit sections for the organism card, truth probes, NSG faithfulness and mechanistic estimation."""

from __future__ import annotations

from pathlib import Path

from overseer.report.sections import Section, Table


def organism_card_section(ctx) -> Section:
    from overseer.models.organism import weights_dir
    from overseer.models.organism.card import DESCRIPTIONS, compute_card

    card = compute_card(weights_dir())
    rows = [[name, value, card.n_items.get(name, ""), DESCRIPTIONS[name]] for name, value in card.metrics().items()]
    summary = ("What the organism measurably learned, from its committed weights. These planted behaviours are "
               "the ground truth the other sections test methods against.")
    section = Section("organism-card", "The organism's card", "ok", summary,
                      [Table("Organism card", ["metric", "value", "n", "what it measures"], rows)], [],
                      card.metrics())
    m = card.metrics()
    section.headline = (f"held-out facts {m['heldout_fact_accuracy']:.0%} right, lies on instruction "
                        f"{m['lie_rate']:.0%}, denies its secret {m['secret_denial_rate']:.0%}, observed-unobserved "
                        f"compliance gap {m['observed_unobserved_gap']:+.2f}")
    return section


def truth_probe_section(ctx) -> Section:
    from overseer.data import geometry_of_truth_available, write_statement_csv
    from overseer.probes.truth import run_truth

    lm = ctx.load(ctx.model)
    datasets = ["cities", "neg_cities", "sp_en_trans", "larger_than"]
    if not ctx.quick:
        datasets += ["companies_true_false", "common_claim_true_false", "smaller_than", "neg_sp_en_trans"]
    # The original CSVs have no licence and do not ship; the generated sets (GeoNames, numbers) always run,
    # beside the originals where those are on this machine.
    originals = geometry_of_truth_available(datasets)
    generated = ["gen_cities", "gen_neg_cities", "gen_larger_than"] + ([] if ctx.quick else ["gen_capitals",
                                                                                              "gen_smaller_than"])
    datasets = (datasets if originals else []) + [str(write_statement_csv(name, ctx.out_dir / "statements"))
                                                  for name in generated]
    layers = sorted({round(f * (lm.n_layers - 1)) for f in (0.3, 0.45, 0.6)})
    n = 80 if ctx.quick else None  # --full: every statement of every set
    result = run_truth(lm, datasets, layers=layers, n_per_dataset=n, probes=("logistic", "mass_mean"),
                       falseclaims=0 if ctx.quick else 200, n_boot=200)
    figures = result.write_figures(ctx.figure_path("truth_matrix.png"), ctx.figure_path("truth_layers.png"))
    sources = ("Geometry of Truth statements and overseer's generated sets (gen_*: GeoNames cities and capitals, "
               "number comparisons)" if originals else "overseer's generated statement sets (gen_*: GeoNames cities "
               "and capitals, number comparisons; the Geometry-of-Truth originals are not on this machine)")
    summary = (f"Logistic-regression truth probes on {sources} ({n or 'all statements'} per set, 70/30 "
               "split), last token; "
               "every AUROC with a 95 % bootstrap CI over held-out statements. "
               f"{result.summary()}")
    section = Section("truth-probes", f"Truth probes on {lm.name}", "ok", summary, result.to_tables(), figures,
                      result.to_dict())
    from overseer.report.claims import truth_transfer_claim

    section.headline = result.summary().split(" (0.5 is chance")[0]
    section.claims = [truth_transfer_claim(result.generalisation, result.datasets)]
    return section


def nsg_organism_section(ctx) -> Section:
    from overseer.evals.nsg_run import run_nsg_eval

    run = run_nsg_eval("local:organism", ["simulator"], n_groups=10 if ctx.quick else 40, seed=0,
                       log_dir=ctx.out_dir / "logs", explanation_max_tokens=32, answer_max_tokens=8)
    result = run.comparison
    rows = []
    for label, setting in (("faithful (auditor setting)", result.faithful),
                           ("unfaithful (customer setting)", result.unfaithful)):
        score = setting.overall
        rows.append([label, score.nsg, f"[{score.ci_low:.3f}, {score.ci_high:.3f}]", score.acc_with,
                     score.acc_without, setting.egregious_rate, score.n])
    diff = result.difference
    summary = (f"Normalized Simulatability Gain on the organism's loan decisions ({result.faithful.n_groups} "
               f"centre cases, {result.faithful.n_counterfactuals} counterfactuals). The organism states its real "
               "rule to an auditor and a plausible false rule to a customer; a predictor that applies the stated "
               f"rule should gain only from the faithful one. Faithful minus unfaithful NSG: {diff.difference:.3f} "
               f"[{diff.ci_low:.3f}, {diff.ci_high:.3f}]. {eval_log_note(ctx, run.logs)}")
    section = Section("nsg-organism", "Faithfulness of self-explanations (NSG, organism)", "ok", summary,
                      [Table("NSG by explanation setting", ["explanations", "NSG", "95% CI", "acc with",
                                                            "acc without", "egregiously misleading", "n"], rows)],
                      [], run.to_dict())
    from overseer.report.claims import nsg_claim

    good = result.faithful.overall
    section.headline = (f"faithful explanations NSG {good.nsg:.3f} [{good.ci_low:.3f}, {good.ci_high:.3f}]; "
                        f"faithful minus unfaithful {diff.difference:.3f} [{diff.ci_low:.3f}, {diff.ci_high:.3f}]")
    section.claims = [nsg_claim(good.nsg, good.ci_low, good.ci_high, "organism, faithful (auditor) explanations")]
    return section


def eval_log_note(ctx, logs: list[str]) -> str:
    """One sentence naming the section's Inspect logs, relative to the audit folder."""
    names = [str(Path(log).relative_to(ctx.out_dir)) if Path(log).is_relative_to(ctx.out_dir) else log
             for log in logs]
    return (f"Inspect eval log{'s' if len(names) > 1 else ''}: {', '.join(names)} "
            f"(open with: inspect view --log-dir {ctx.out_dir / 'logs'}).")


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
    section = Section("nsg-model", f"Faithfulness of self-explanations (NSG, {lm.name})", "ok", summary,
                      [Table("NSG", ["answers read from", "NSG", "95% CI", "acc with", "acc without",
                                     "egregiously misleading", "n"], rows)],
                      [figure] if figure is not None else [], result.to_dict())
    from overseer.report.claims import nsg_claim

    section.headline = (f"NSG {score.nsg:.3f} [{score.ci_low:.3f}, {score.ci_high:.3f}] over {result.n_groups} "
                        "centre cases")
    section.claims = [nsg_claim(score.nsg, score.ci_low, score.ci_high, f"{lm.name} on the breast-cancer table")]
    return section


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
               f"{config.layer}, every order scored on its own: k1 is mean field with per-row variances, "
               "k2 a full-covariance Gaussian, k2-augment adds the trace parts of the third and fourth "
               f"cumulants and the next diagrams, k3 the third cumulant. {result.statement}")
    section = Section("estimation", "Mechanistic estimation: cumulants vs sampling", "ok", summary,
                      [Table(f"Layer {config.layer}: MSE/Var and advantage over sampling at equal FLOPs",
                             ["width", "estimator", "MSE/Var", "FLOPs", "advantage", "flagged seeds"], rows)],
                      [figure], {"slopes": [s.__dict__ for s in result.slopes], "statement": result.statement})
    from overseer.report.claims import best_cumulant, estimation_claim

    best = best_cumulant(result.aggregates, config.layer)
    section.headline = result.statement.split(". ")[0].rstrip(".") + "."
    section.claims = [estimation_claim(best.estimator if best else None, best.advantage if best else None,
                                       best.width if best else max(config.widths), bool(best and best.resolved),
                                       config.seeds)]
    return section
