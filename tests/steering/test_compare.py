"""How the compare reads its cells: ODESteer against the best baseline at equal or lower fluency cost."""

from __future__ import annotations

import torch

from overseer.steering import make_method
from overseer.steering.compare import Cell, native_strength, standing
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
