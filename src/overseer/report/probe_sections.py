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
    section = Section("deception-organism", "Lie detection on the organism", "ok", summary, [table], [figure],
                      result.to_dict())
    from overseer.report.claims import deception_claims

    def vlh(e) -> tuple[float, float, float]:
        return e.value, e.low, e.high

    section.headline = (f"{best.probe} (layer {best.layer}): held-out lie AUROC {best.lie_auroc}; at "
                        f"{result.fpr:.0%} FPR it flags {best.recall_at_fpr.value:.0%} of lies and "
                        f"{best.denials_flagged.value:.0%} of secret denials")
    section.claims = deception_claims(vlh(best.lie_auroc), vlh(best.recall_at_fpr), result.fpr,
                                      vlh(best.denials_flagged), vlh(best.honest_flagged))
    return section


def organism_elicitation_section(ctx) -> Section:
    from overseer.probes.elicitation_task import run_elicitation_eval
    from overseer.probes.plots import bar_chart
    from overseer.report.method_sections import eval_log_note

    result, log = run_elicitation_eval("organism", None, log_dir=ctx.out_dir / "logs",
                                       samples=2 if ctx.quick else 8, steering_strength="2,8")
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
               + " ".join(result.notes) + " " + eval_log_note(ctx, [log]))
    section = Section("elicit-organism", "Secret elicitation on the organism", "ok", summary,
                      [Table("Reveal rate by technique", ["technique", "n", "reveal rate [95% CI]",
                                                          "example reply (a revealing one if any)"], rows)],
                      [figure], {**result.to_dict(), "eval_logs": [log]})
    from overseer.probes.elicitation import CONTROL
    from overseer.report.claims import elicitation_claim

    rates = {t.technique: (t.reveal_rate.value, t.reveal_rate.low, t.reveal_rate.high) for t in result.techniques}
    top = max((k for k in rates if k != CONTROL), key=lambda k: rates[k][0], default=None)
    section.headline = (f"best technique {top}: reveals the secret in {rates[top][0]:.0%} of replies"
                        if top else "no technique ran")
    section.claims = [elicitation_claim(rates, control=CONTROL)]
    return section
