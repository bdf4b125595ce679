"""Audit section: a natural-language autoencoder trained on the organism, scored against its planted facts; with
--full on SmolLM2, also SmolLM2's AR scored on its input texts and on training-free Patchscopes descriptions
(sizes times `ctx.scale`)."""

from __future__ import annotations

from overseer.report.sections import Section

SMOLLM2_FULL = {"n_train": 240, "n_test": 120, "steps": 150}


def smollm2_sizes(scale: float = 1.0) -> dict[str, int]:
    return {key: max(8 if key != "steps" else 2, round(value * scale)) for key, value in SMOLLM2_FULL.items()}


def _smollm2_part(ctx) -> tuple[str, list, dict]:
    from overseer.nla.smollm2 import evaluate_model_ar

    report, ar = evaluate_model_ar("smollm2", **smollm2_sizes(ctx.scale), progress=False)
    ar.save(ctx.out_dir / "nla-smollm2-ar")
    fve = report.fve
    scopes = "; ".join(f"{name} {fve[name]} ({report.distinct_descriptions[name]:.0%} distinct descriptions)"
                       for name in report.scopes)
    text = (f" SmolLM2 (no ground truth): an AR (blocks up to layer {report.layer}, top blocks fine-tuned, plus a "
            f"linear head) was trained on {report.n_train} packaged TruthfulQA texts with two kinds of explanation, "
            f"the text itself and Patchscopes descriptions (the activation patched into a few-shot prompt of the "
            f"same model, training-free). FVE on {report.n_test} held-out texts: input text "
            f"{fve['input text itself']}, empty explanation {fve['empty explanation']}, {scopes}.")
    return text, [report.to_table(), report.examples_table()], report.to_dict()


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
    tables = [report.to_table(), report.recall_table(), report.examples_table()]
    data = report.to_dict()
    if not ctx.quick and ctx.model == "smollm2":
        text, more, data["smollm2"] = _smollm2_part(ctx)
        summary += text
        tables += more
    return Section("nla", "Natural-language autoencoder (organism)", "ok", summary, tables, [], data,
                   headline=headline)
