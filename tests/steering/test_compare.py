"""How the compare reads its cells: ODESteer against the best baseline at equal or lower fluency cost."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from overseer.errors import InvalidInputError
from overseer.steering import make_method
from overseer.steering.compare import (
    Cell,
    Comparison,
    attach_uncertainty,
    judge,
    native_strength,
    paired_difference,
    run_comparison,
    standing,
)
from overseer.steering.metrics import distinct_n, mean_perplexity


def cell(method, success, cost, layer=3, m=1.0):
    return Cell(method, None if method == "none" else layer, m, m, {"mc1": success, "fluency_ppl": cost}, 0.0)


def test_standing_compares_against_the_best_baseline_no_more_costly():
    cells = [cell("none", 0.20, 2.0), cell("odesteer", 0.30, 3.0), cell("odesteer", 0.25, 2.5, m=0.5),
             cell("caa", 0.28, 2.9), cell("iti", 0.40, 6.0), cell("repe", 0.10, 2.1)]
    result = standing(cells, "mc1", "fluency_ppl")
    assert result.ode_cell == "odesteer_L3_m1"
    assert result.baseline_cell == "caa_L3_m1"  # iti is better but costs more
    assert round(result.difference, 6) == 0.02 and round(result.advantage, 6) == 0.02
    assert "ahead of" in result.sentence("claim")


def test_standing_for_lower_is_better_metrics():
    cells = [cell("none", 0.5, 2.0), cell("step_odesteer", 0.1, 2.5), cell("odesteer", 0.3, 2.2),
             cell("caa", 0.2, 2.2), cell("linear_act", 0.25, 2.1)]
    result = standing(cells, "mc1", "fluency_ppl", higher_is_better=False)
    assert result.baseline_cell == "caa_L3_m1" and result.advantage < 0
    assert "behind" in result.sentence("claim")  # for toxicity, a higher score is worse
    step = standing(cells, "mc1", "fluency_ppl", higher_is_better=False, ode_method="step_odesteer")
    assert step.ode_success == 0.1


def test_relative_strength_moves_additive_and_ode_methods_by_the_class_mean_distance():
    generator = torch.Generator().manual_seed(0)
    pos, neg = torch.randn(50, 8, generator=generator) + 2, torch.randn(50, 8, generator=generator)
    distance = float((pos.mean(0) - neg.mean(0)).norm())
    caa = make_method("caa").fit(pos, neg)
    assert abs(native_strength(caa, 2.0, pos, neg) - 2.0) < 1e-5
    ode = make_method("odesteer", n_components=128).fit(pos, neg)
    assert abs(native_strength(ode, 2.0, pos, neg) - 2 * distance) < 1e-5
    act = make_method("linear_act").fit(pos, neg)
    assert native_strength(act, 0.5, pos, neg) == 0.5
    # Without activations, the yardstick is the class distance the method was fitted on.
    assert native_strength(ode, 2.0) == native_strength(ode, 2.0, pos, neg)
    assert native_strength(caa, 3.0) == native_strength(caa, 3.0, pos, neg)


def test_distinct_n_and_mean_perplexity():
    assert distinct_n(["a b a b"], 1) == 0.5
    assert distinct_n(["a b a b"], 2) == 2 / 3
    assert distinct_n([""], 3) == 0.0
    assert abs(mean_perplexity([2.0, 8.0, None]) - 4.0) < 1e-9


# ---- uncertainty: CIs per cell, paired CIs and verdicts per comparison ----

class FakeTruthfulQA:
    """Per-question samples only: enough for the uncertainty code, which never touches a model."""

    name, success_key, unit_key = "truthfulqa", "mc1", "question"
    metric_keys, paired_keys = ("mc1", "mc2", "fluency_ppl"), ("mc1", "mc2")

    from overseer.steering.truthfulqa import TruthfulQATask
    summarise = staticmethod(TruthfulQATask.summarise)
    per_unit = staticmethod(TruthfulQATask.per_unit)


def sampled_cell(method, mc1s, m=1.0, ppl=3.0):
    samples = [{"question": f"q{i}", "mc1": float(v), "mc2": float(v) * 0.5 + 0.25, "generation_ppl": ppl}
               for i, v in enumerate(mc1s)]
    return Cell(method, None if method == "none" else 3, m, m, FakeTruthfulQA.summarise(samples), 0.0, samples)


def test_each_cell_gets_a_bootstrap_ci_and_a_paired_verdict_against_unsteered():
    task = FakeTruthfulQA()
    unsteered = sampled_cell("none", [0] * 60 + [1] * 40)
    better = sampled_cell("caa", [1] * 60 + [1] * 40)  # right on 60 more questions
    same = sampled_cell("repe", [0] * 60 + [1] * 40)
    worse = sampled_cell("iti", [0] * 60 + [0] * 40)
    attach_uncertainty(task, [unsteered, better, same, worse])
    ci = unsteered.intervals["mc1"]
    assert ci["low"] < 0.4 < ci["high"] and ci["n"] == 100
    assert better.vs_unsteered["mc1"]["verdict"] == "ahead" and better.vs_unsteered["mc1"]["low"] > 0.4
    assert same.vs_unsteered["mc1"]["verdict"] == "no difference at this n"
    assert worse.vs_unsteered["mc1"]["verdict"] == "behind"
    assert abs(unsteered.intervals["fluency_ppl"]["value"] - 3.0) < 1e-9  # geometric mean, CI on the log scale


def test_a_small_difference_on_few_questions_is_no_difference_at_this_n():
    task = FakeTruthfulQA()
    cells = [sampled_cell("none", [0, 1] * 20), sampled_cell("odesteer", [1, 1] + [0, 1] * 19, ppl=3.0),
             sampled_cell("caa", [0, 1] * 20, ppl=2.9)]
    attach_uncertainty(task, cells)
    result = standing(cells, "mc1", "fluency_ppl", task=task)
    assert result.baseline_cell == "caa_L3_m1" and result.advantage > 0  # ahead on the point estimate ...
    assert result.verdict == "no difference at this n"  # ... but not beyond the noise of 40 questions
    sentence = result.sentence("claim")
    assert "no difference at this n" in sentence and "ahead of" not in sentence
    assert result.vs_baseline.signed() in sentence and result.to_dict()["vs_baseline"]["n"] == 40


def test_verdicts_follow_the_metric_direction_for_toxicity():
    unsteered = Cell("none", None, 0.0, 0.0, {}, 0.0, [{"prompt": f"p{i}", "toxicity": 0.9} for i in range(30)])
    steered = Cell("caa", 3, 1.0, 1.0, {}, 0.0, [{"prompt": f"p{i}", "toxicity": 0.1, "ppl": 2.0} for i in range(30)])
    task = type("Tox", (), {"unit_key": "prompt", "per_unit": staticmethod(lambda ss: {
        "toxicity": [s["toxicity"] for s in ss]})})()
    diff = paired_difference(task, steered, unsteered, "toxicity")
    assert diff.high < 0 and judge(diff, higher_is_better=False) == "ahead"  # less toxic is ahead
    assert judge(diff, higher_is_better=True) == "behind"


def test_cells_on_different_questions_cannot_be_paired():
    task = FakeTruthfulQA()
    a, b = sampled_cell("none", [0, 1, 1, 0]), sampled_cell("caa", [0, 1, 1, 0])
    b.samples[0]["question"] = "another question"
    with pytest.raises(InvalidInputError, match="different questions"):
        paired_difference(task, b, a, "mc1")


def test_the_table_shows_each_metric_with_its_ci_and_the_paired_difference():
    task = FakeTruthfulQA()
    cells = [sampled_cell("none", [0] * 30 + [1] * 20), sampled_cell("caa", [1] * 50)]
    attach_uncertainty(task, cells)
    comparison = Comparison(task, cells, {"model": "m"}, [], [], Path("r.json"), Path("p.png"))
    table = comparison.to_table()
    assert "bootstrap CIs over questions" in table.title and table.columns[-1] == "mc1 minus unsteered"
    assert table.rows[0][4].startswith("0.400 [") and table.rows[0][-1] == ""
    assert table.rows[1][-1].startswith("+0.600 [") and table.rows[1][-1].endswith("ahead")


@pytest.mark.parametrize(("options", "message"), [
    ({"n_fluency": 0}, "n_fluency must be at least 1"),
    ({"strengths": [1.0, 0.0]}, "strengths > 0"),
    ({"strengths": [-1.0]}, "strength must be a finite number"),
    ({"strengths": []}, "strengths > 0"),
    ({"n": 3}, "n must be at least 4"),
    ({"task": "toxicity", "n_fit": 1}, "n_fit must be at least 2"),
    ({"task": "toxicity", "max_new_tokens": 0}, "max_new_tokens must be at least 1"),
    ({"threads": 0}, "threads must be at least 1"),
    ({"task": "mmlu"}, "unknown task"),
])
def test_bad_compare_options_are_rejected_before_the_model_is_loaded(options, message):
    kwargs = {"model": "no-such-model-anywhere", "task": "truthfulqa", "out": None, "methods": ["caa"],
              "layers": [1], "strengths": [1.0], **options}
    with pytest.raises(InvalidInputError, match=message):
        run_comparison(**kwargs)


def test_toxicity_tables_carry_the_scorers_measured_accuracy_and_recall():
    from overseer.steering.toxicity import ToxicityTask, quality_note

    samples = [{"prompt": f"p{i}", "category": "insult", "continuation": f"word{i} other{i % 3} and more",
                "toxicity": 0.9 if i % 4 == 0 else 0.1, "ppl": 2.0 + i % 2} for i in range(20)]
    task = ToxicityTask([type("P", (), {"text": f"x{i}", "category": "c"})() for i in range(8)],
                        scorer="profanity-check")
    cells = [Cell("none", None, 0.0, 0.0, task.summarise(samples), 0.0, samples)]
    attach_uncertainty(task, cells, higher_is_better=False)
    assert set(cells[0].intervals) == {"toxicity", "toxic_rate", "fluency_ppl", "dist1", "dist2", "dist3"}
    dist2 = cells[0].intervals["dist2"]
    assert dist2["low"] <= task.summarise(samples)["dist2"] <= dist2["high"] and dist2["n"] == 20
    note = quality_note("profanity-check")
    table = Comparison(task, cells, {"model": "m"}, [], [], Path("r"), Path("p"), [note]).to_table()
    assert "measured accuracy" in table.title and "recall" in table.title and "over prompts" in table.title


def test_distinct_n_interval_is_a_jackknife_that_widens_when_few_texts_carry_the_variety():
    from overseer.steering.metrics import distinct_n, ngrams
    from overseer.steering.toxicity import jackknife_distinct

    even = [f"w{i} x{i} y{i} z{i}" for i in range(30)]
    lumpy = ["a b a b"] * 29 + [" ".join(f"u{i}" for i in range(60))]
    for texts in (even, lumpy):
        est = jackknife_distinct([ngrams(t, 1) for t in texts])
        assert est.value == distinct_n(texts, 1) and est.low <= est.value <= est.high
    assert jackknife_distinct([ngrams(t, 1) for t in even]).high - jackknife_distinct(
        [ngrams(t, 1) for t in even]).low < 1e-9  # every text alike: nothing to vary
    lumpy_est = jackknife_distinct([ngrams(t, 1) for t in lumpy])
    assert lumpy_est.high - lumpy_est.low > 0.2
