"""The audit's gap section, run on the organism alone (the audited model is the organism, so no SmolLM2)."""

from __future__ import annotations

import pytest

from overseer.report.audit import run_audit


@pytest.mark.slow
def test_audit_gap_section_reports_ground_truth_rates_and_a_figure(tmp_path):
    result = run_audit(model="organism", out_dir=tmp_path, only=["gap"])
    (section,) = result.sections
    assert section.status == "ok", section.summary
    assert "every CI holds 0.3" in section.summary
    assert [t.title for t in section.tables][:2] == [
        "Good-outcome rate per framing: overseer-policy/gap-complier?gap=0.3",
        "Good-outcome rate per framing: overseer/organism"]
    assert all(p.exists() for p in section.figures) and len(section.figures) == 2  # rates + organism probe
    organism = section.data["runs"][1]["behaviours"][0]
    assert organism["behaviour"] == "rule_compliance" and organism["gap"]["value"] >= 0.9
    assert all(log and log.endswith(".eval") for log in section.data["logs"])
