from __future__ import annotations

import pytest

from overseer.models import load_model
from overseer.probes.truth import run_truth


@pytest.mark.slow
def test_smollm2_mid_layer_truth_probe_separates_held_out_city_statements():
    # Measured 0.79 at layer 13 on this subset (80 statements, 24 held out); 0.65 leaves room for CI width.
    result = run_truth(load_model("smollm2"), ["cities"], [13], n_per_dataset=80, falseclaims=0, n_boot=100)
    assert result.sweep["cities"][0].auroc.value > 0.65
