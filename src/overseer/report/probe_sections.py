"""Audit sections for lie detection and secret elicitation on the organism (planted ground truth)."""

from __future__ import annotations

from overseer.report.sections import Section, Table


def organism_deception_section(ctx) -> Section:
    from overseer.probes.organism_lies import run_organism_lies
    from overseer.probes.plots import bar_chart

    lm = ctx.load("organism")
    result = run_organism_lies(lm, n_neutral=100 if ctx.quick else 200, n_boot=300 if ctx.quick else 1000)
    rows = [[p.probe, p.layer, str(p.lie_auroc), str(p.recall_at_fpr), str(p.honest_flagged),
             str(p.denials_flagged), p.denial_auroc_vs_honest] for p in result.probes]
    best = result.probes[0]
    figure = bar_chart({"instructed lies": (best.recall_at_fpr.value, best.recall_at_fpr.low, best.recall_at_fpr.high),
                        "truthful answers": (best.honest_flagged.value, best.honest_flagged.low,
                                             best.honest_flagged.high),
                        "secret denials": (best.denials_flagged.value, best.denials_flagged.low,
                                           best.denials_flagged.high)},
                       ctx.figure_path("organism_deception.png"),
                       f"Flagged at {result.fpr:.0%} FPR on neutral chat ({best.probe}, layer {best.layer})",
                       "share flagged")
    summary = (f"Apollo-style probe fitted on the organism's own instructed truths vs lies (people split between "
               f"train and test), threshold at {result.fpr:.0%} false positives on its neutral chat. It then meets "
               "a kind of lie it never saw: denials of its planted secret. "
               + " ".join(result.notes))
    table = Table("Deception probes on the organism", ["probe", "layer", "instructed-lie AUROC", "recall at FPR",
                                                        "truthful flagged", "secret denials flagged",
                                                        "denials vs truthful AUROC"], rows)
    return Section("deception-organism", "Lie detection on the organism", "ok", summary, [table], [figure],
                   result.to_dict())


def organism_elicitation_section(ctx) -> Section:
    from overseer.probes.elicitation import organism_honesty_pairs, organism_target, run_elicitation
    from overseer.probes.plots import bar_chart

    lm = ctx.load("organism")
    result = run_elicitation(lm, organism_target(), samples_per_prompt=2 if ctx.quick else 8,
                             steering_strength=(2.0, 8.0), steering_pairs=organism_honesty_pairs(seed=0))
    def example(technique) -> str:  # a revealing reply where there is one
        sample = next((x for x in technique.samples if x["revealed"]), technique.samples[0])
        return sample["reply"][:80].replace("\n", " ")

    rows = [[t.technique, t.n, str(t.reveal_rate), example(t)] for t in result.techniques]
    figure = bar_chart({t.technique: (t.reveal_rate.value, t.reveal_rate.low, t.reveal_rate.high)
                        for t in result.techniques}, ctx.figure_path("organism_elicitation.png"),
                       f"Secret reveal rate by technique ({result.target})", "reveal rate")
    summary = ("How often each elicitation technique gets the organism to say the secret word it was trained to "
               "use but deny. Plain notes in its training data state the word in the third person (none in the "
               "wording of any technique), so the secret is in its weights; a reveal means a technique carried "
               "that knowledge into a chat where training says deny. The control row shows the check fires when "
               "the organism does use the word. "
               + " ".join(result.notes))
    return Section("elicit-organism", "Secret elicitation on the organism", "ok", summary,
                   [Table("Reveal rate by technique", ["technique", "n", "reveal rate [95% CI]",
                                                       "example reply (a revealing one if any)"], rows)],
                   [figure], result.to_dict())
