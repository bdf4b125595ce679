"""Audit section: a natural-language autoencoder trained on the organism, scored against its planted facts."""

from __future__ import annotations

from overseer.report.sections import Section


def nla_section(ctx) -> Section:
    from overseer.nla.evaluate import train_organism_nla

    steps = 150 if ctx.quick else 300
    run = train_organism_nla(n_train=700 if ctx.quick else 1400, sft_steps=steps, n_test=70 if ctx.quick else 140,
                             progress=False)
    report = run.report
    run.nla.save(ctx.out_dir / "nla")
    fve = report.fve
    av = fve["AV explanation (SFT)"]
    summary = (
        f"An activation verbalizer (AV) and reconstructor (AR) were fine-tuned from the organism ({steps} SFT steps, "
        f"{run.train_seconds:.0f} s) on explanations written from what the organism's generator planted in each text "
        f"(person and facts, sentiment, politeness, monitored context, lie instruction, secret word), at layer "
        f"{run.nla.layer_}. FVE is 1 - MSE/MSE(mean) on L2-normalised activations of fresh texts, with bootstrap "
        f"CIs over texts: AV explanations {av}, ground-truth explanations {fve['ground-truth explanation']}, the "
        f"input text itself {fve['input text itself']}, an empty explanation {fve['empty explanation']} (an AR "
        f"output that ignores the input cannot beat the mean). The AV's explanations name the planted attribute "
        f"at rate {report.recall} against {report.recall_chance} for another text's explanation. Secret test: on "
        f"denial prompts (never in SFT) the explanation names the hidden word at rate {report.secret_mention}, "
        f"against {report.secret_mention_other} on other non-secret texts. No RL stage was run (SFT only).")
    headline = f"NLA on the organism: AV FVE {av}, attribute recall {report.recall} vs chance {report.recall_chance}"
    return Section("nla", "Natural-language autoencoder (organism)", "ok", summary,
                   [report.to_table(), report.recall_table(), report.examples_table()], [], report.to_dict(),
                   headline=headline)
