"""SmolLM2 through the gap eval: measured and reported as it is (few samples; slow)."""

from __future__ import annotations

import pytest

from overseer.evals.gap.framings import FRAMINGS
from overseer.evals.gap.run import run_gap
from overseer.evals.gap.whitebox import run_whitebox
from overseer.models import load_model

pytestmark = pytest.mark.slow


def test_smollm2_black_box_run_gives_a_rate_per_framing_and_a_paired_gap(tmp_path):
    result = run_gap("overseer/smollm2", n_per_behaviour=4, log_dir=tmp_path, n_boot=200)
    assert len(result.records) == 4 * 4 * 3
    for b in result.behaviours:
        assert all(0.0 <= b.rates[f].value <= 1.0 for f in FRAMINGS)
        assert -1.0 <= b.gap.low <= b.gap.value <= b.gap.high <= 1.0
    assert all(r.reply for r in result.records)


def test_smollm2_probe_sweeps_all_30_layers_and_steers():
    result = run_whitebox(load_model("smollm2"), "rule_compliance", n_per_behaviour=8, strengths=(0.0, 4.0),
                          n_boot=100)
    assert result.layers == list(range(30)) and len(result.cv_auroc) == 30
    assert {s.framing for s in result.steering} == {"observed", "unobserved"}
