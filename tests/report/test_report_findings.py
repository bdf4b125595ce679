import json
import re

import pytest

from overseer.errors import OverseerError
from overseer.report import audit as audit_module
from overseer.report import claims as C
from overseer.report.audit import SectionSpec, run_audit
from overseer.report.html import render
from overseer.report.sections import VERDICTS, Claim, Section, Table, interval_verdict


def _claim(verdict: str) -> Claim:
    return Claim(f"Paper {verdict}", f"claim {verdict}", f"paper says {verdict}", f"we measured {verdict}",
                 verdict, f"rule {verdict}")


def test_headlines_lead_the_report_in_section_order_with_skipped_and_failed_sections_shown_as_such(tmp_path,
                                                                                                   monkeypatch):
    def first(ctx):
        return Section("first", "First", headline="alpha result 0.91")

    def broken(ctx):
        raise RuntimeError("bug in a section")

    def missing(ctx):
        raise OverseerError("TruthfulQA.csv not found: pass --data")

    def last(ctx):
        return Section("last", "Last", summary="no headline set, so the summary's first line\nnot this one")

    monkeypatch.setattr(audit_module, "_registry", lambda: [
        SectionSpec("first", "First", first), SectionSpec("broken", "Broken", broken),
        SectionSpec("missing", "Missing", missing), SectionSpec("last", "Last", last)])
    run_audit(out_dir=tmp_path)
    page = (tmp_path / "report.html").read_text()
    findings = page[page.index("id='findings'"):page.index("<section")]  # all of it above the first section
    lines = re.findall(r"<li>(.*?)</li>", findings)
    assert len(lines) == 4
    assert "First" in lines[0] and "alpha result 0.91" in lines[0]
    assert "class='status failed'>failed<" in lines[1] and "RuntimeError: bug in a section" in lines[1]
    assert "class='status skipped'>skipped<" in lines[2] and "TruthfulQA.csv not found: pass --data" in lines[2]
    assert "no headline set, so the summary&#x27;s first line" in lines[3] and "not this one" not in lines[3]
    saved = json.loads((tmp_path / "audit.json").read_text())
    assert [s["finding"] for s in saved["sections"]][:3] == [
        "alpha result 0.91", "failed: RuntimeError: bug in a section", "skipped: TruthfulQA.csv not found: pass --data"]


def test_claims_table_renders_every_verdict_with_paper_and_measured_figures_side_by_side(tmp_path):
    section = Section("s", "S", headline="h", claims=[_claim(v) for v in VERDICTS])
    page = render("audit", [section], {"model": "m"})
    table = page[page.index("<table class='claims'>"):page.index("</table>", page.index("<table class='claims'>"))]
    rows = re.findall(r"<tr><td>.*?</tr>", table)
    assert len(rows) == 3
    for verdict, row in zip(VERDICTS, rows, strict=True):
        assert f"class='verdict {verdict.replace(' ', '-')}'>{verdict}<" in row
        assert row.index(f"paper says {verdict}") < row.index(f"we measured {verdict}")
        assert f"rule: rule {verdict}" in row
    assert page.index("class='claims'") < page.index("<section")


def test_no_claims_table_when_no_section_tests_a_claim():
    assert "class='claims'" not in render("audit", [Section("s", "S", headline="h")], {})


def test_a_claim_with_an_unknown_verdict_is_refused():
    with pytest.raises(ValueError, match="verdict"):
        _claim("sort of")


def test_claims_round_trip_through_audit_json():
    data = Section("s", "S", claims=[_claim("reproduced")]).to_dict()
    assert data["claims"][0]["verdict"] == "reproduced" and data["claims"][0]["paper_figure"] == "paper says reproduced"


@pytest.mark.parametrize(("low", "high", "higher", "expected"), [
    (0.01, 0.05, True, "reproduced"), (-0.01, 0.05, True, "not reproduced"), (-0.05, -0.01, True, "not reproduced"),
    (-0.05, -0.01, False, "reproduced"), (float("nan"), 0.1, True, "not testable here")])
def test_interval_verdict_needs_the_whole_ci_on_the_papers_side(low, high, higher, expected):
    assert interval_verdict(low, high, 0.0, higher) == expected


def test_odesteer_verdict_follows_the_paired_ci_against_the_best_baseline():
    assert C.odesteer_claim(0.04, 0.01, 0.07, "caa L17 x3", 24).verdict == "reproduced"
    assert C.odesteer_claim(0.02, -0.03, 0.07, "caa L17 x3", 24).verdict == "not reproduced"
    assert C.odesteer_claim(-0.05, -0.08, -0.01, "caa L17 x3", 24).verdict == "not reproduced"
    assert C.odesteer_claim(-0.05, -0.08, -0.01, "caa", 24, higher_is_better=False).verdict == "reproduced"
    assert C.odesteer_claim(None, None, None, None, None).verdict == "not testable here"
    assert "+5.7%" in C.odesteer_claim(0.04, 0.01, 0.07, "caa", 24).paper_figure


def test_truth_transfer_verdict_follows_the_cross_set_aurocs():
    good = [[0.99, 0.85, 0.8], [0.9, 0.98, 0.75], [0.8, 0.7, 0.97]]
    assert C.truth_transfer_claim(good, ["a", "b", "c"]).verdict == "reproduced"
    inverted = [[0.99, 0.95], [0.3, 0.98]]  # mean 0.625, and one pair below chance
    assert C.truth_transfer_claim(inverted, ["a", "b"]).verdict == "not reproduced"
    weak = [[0.99, 0.62], [0.6, 0.98]]
    assert C.truth_transfer_claim(weak, ["a", "b"]).verdict == "not reproduced"
    assert C.truth_transfer_claim([[0.9]], ["a"]).verdict == "not testable here"


def test_deception_verdicts_follow_auroc_ci_and_the_flagged_shares():
    detect, transfer, blackbox = C.deception_claims((0.9, 0.8, 0.97), (0.7, 0.5, 0.85), 0.05,
                                                    (0.6, 0.45, 0.75), (0.1, 0.04, 0.2))
    assert (detect.verdict, transfer.verdict, blackbox.verdict) == ("reproduced", "reproduced", "not testable here")
    detect, transfer, _ = C.deception_claims((0.55, 0.45, 0.66), (0.1, 0.0, 0.2), 0.05,
                                             (0.15, 0.05, 0.3), (0.1, 0.04, 0.2))
    assert (detect.verdict, transfer.verdict) == ("not reproduced", "not reproduced")
    assert "0.96-0.999" in detect.paper_figure


def test_elicitation_verdict_needs_a_technique_clearly_above_direct_asking():
    control = "control: known-use prompts"
    rates = {"direct": (0.0, 0.0, 0.1), "prefill": (0.6, 0.4, 0.8), control: (1.0, 0.8, 1.0)}
    assert C.elicitation_claim(rates, control=control).verdict == "reproduced"
    rates["prefill"] = (0.1, 0.02, 0.3)
    assert C.elicitation_claim(rates, control=control).verdict == "not reproduced"
    assert C.elicitation_claim({"direct": (0.0, 0.0, 0.1)}).verdict == "not testable here"


def test_nsg_verdict_follows_the_bootstrap_ci():
    assert C.nsg_claim(0.3, 0.1, 0.5, "organism").verdict == "reproduced"
    assert C.nsg_claim(0.05, -0.1, 0.2, "organism").verdict == "not reproduced"


def _aggregate(width, estimator, advantage, layer=4):
    from overseer.estimation.experiment import Aggregate

    return Aggregate(width, estimator, layer, 2, 1e6, 0.01, 0.001, 0.001, True, 0.1, advantage, 0)


@pytest.mark.parametrize(("advantage", "expected"), [(12.0, "reproduced"), (0.4, "not reproduced")])
def test_estimation_section_judges_the_claim_from_its_measured_advantage(advantage, expected, tmp_path, monkeypatch):
    from overseer.estimation import experiment, plots
    from overseer.report.audit import AuditContext
    from overseer.report.method_sections import estimation_section

    def fake_compare(config):
        aggs = [_aggregate(8, "k2", 50.0, config.layer), _aggregate(128, "k1", advantage / 2, config.layer),
                _aggregate(128, "k2", advantage, config.layer), _aggregate(128, "mc16", 1000.0, config.layer)]
        return experiment.CompareResult(config, aggregates=aggs, statement="At layer 4, something. More.")

    monkeypatch.setattr(experiment, "run_compare", fake_compare)
    monkeypatch.setattr(plots, "plot_error_vs_flops", lambda result, path: path)
    section = estimation_section(AuditContext(model="m", out_dir=tmp_path, quick=True))
    (claim,) = section.claims
    assert claim.verdict == expected
    assert claim.measured.startswith(f"k2: {advantage:.3g}x lower MSE at width 128")
    assert section.headline == "At layer 4, something."


@pytest.mark.parametrize(("low", "high", "expected"), [(0.02, 0.1, "reproduced"), (-0.04, 0.1, "not reproduced")])
def test_truthfulqa_section_judges_odesteer_from_its_paired_ci(low, high, expected, tmp_path, monkeypatch):
    from types import SimpleNamespace

    from overseer.report.audit import AuditContext
    from overseer.report.steering_sections import truthfulqa_section
    from overseer.stats import Estimate
    from overseer.steering import compare

    ode = compare.Standing("odesteer", "mc1", "fluency_ppl", "odesteer_L3_m3", 0.4, 5.0, "caa_L3_m3", 0.35, 4.0,
                           0.3, 3.0, vs_baseline=Estimate((low + high) / 2, low, high, 24))
    fake = SimpleNamespace(standings=[ode], plot=tmp_path / "plot.png", cells=[],
                           to_table=lambda title: Table(title, ["a"], [[1]]))
    monkeypatch.setattr(compare, "make_task", lambda *a, **k: None)
    monkeypatch.setattr(compare, "compare_methods", lambda *a, **k: fake)
    ctx = AuditContext(model="m", out_dir=tmp_path, quick=True)
    monkeypatch.setattr(ctx, "load", lambda name: SimpleNamespace(n_layers=6))
    section = truthfulqa_section(ctx)
    (claim,) = section.claims
    assert claim.verdict == expected
    assert "vs caa_L3_m3 (n=24)" in claim.measured
    assert section.headline.startswith("ODESteer mc1 0.400 vs unsteered 0.300")
