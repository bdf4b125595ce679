import json

import pytest

from overseer.errors import InvalidInputError, OverseerError
from overseer.report import audit as audit_module
from overseer.report.audit import SectionSpec, run_audit
from overseer.report.sections import Section, Table

from helpers.tiny_models import tiny_hf_model, tiny_tokenizer


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("audit-model")
    tiny_hf_model("gpt2").save_pretrained(path)
    tiny_tokenizer().save_pretrained(path)
    return str(path)


def test_models_section_reports_the_model_and_draws_its_residual_norms(tiny_dir, tmp_path):
    result = run_audit(model=tiny_dir, out_dir=tmp_path, only=["models"])
    (section,) = result.sections
    assert section.status == "ok", section.summary
    assert section.tables[0].rows[0][1:5] == ["gpt2", "GPT2LMHeadModel", 3, 32]
    assert len(section.data["residual_norms"][tiny_dir]) == 3
    html = (tmp_path / "report.html").read_text()
    assert "Models under audit" in html and "data:image/png;base64," in html


def test_a_failing_section_does_not_cost_the_others_their_results(tmp_path, monkeypatch):
    def broken(ctx):
        raise RuntimeError("bug in a section")

    def missing(ctx):
        raise OverseerError("organism weights missing: run `overseer organism train`")

    def fine(ctx):
        return Section("fine", "Fine", tables=[Table("t", ["a"], [[1]])])

    monkeypatch.setattr(audit_module, "_registry", lambda: [
        SectionSpec("broken", "Broken", broken), SectionSpec("missing", "Missing", missing),
        SectionSpec("fine", "Fine", fine)])
    result = run_audit(out_dir=tmp_path)
    assert [s.status for s in result.sections] == ["failed", "skipped", "ok"]
    saved = json.loads((tmp_path / "audit.json").read_text())
    assert [s["status"] for s in saved["sections"]] == ["failed", "skipped", "ok"]
    assert "bug in a section" in saved["sections"][0]["summary"]
    assert "overseer organism train" in saved["sections"][1]["summary"]


def test_unknown_section_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidInputError, match="unknown audit section"):
        run_audit(out_dir=tmp_path, only=["no-such-section"])


def test_table_rows_must_match_columns():
    with pytest.raises(ValueError, match="does not match"):
        Table("t", ["a", "b"], [[1]])


@pytest.fixture(scope="module")
def organism_audit(tmp_path_factory):
    out = tmp_path_factory.mktemp("organism-audit")
    return run_audit(model="organism", out_dir=out, only=["steer-organism", "nsg-organism"])


def test_steering_the_organism_moves_its_reviews_toward_the_planted_positive_sentiment(organism_audit):
    section = organism_audit.sections[0]
    assert section.status == "ok", section.summary
    rows = {(r[0], r[1]): r[3] for r in section.data["rows"]}
    unsteered = rows[("unsteered", 0.0)]
    for method in ("caa", "odesteer", "step_odesteer"):
        assert rows[(method, 2.0)] >= unsteered + 0.25, (method, rows)
    assert section.figures[0].is_file()


def test_nsg_section_scores_faithful_explanations_above_unfaithful_ones(organism_audit):
    section = organism_audit.sections[1]
    assert section.status == "ok", section.summary
    faithful, unfaithful = section.tables[0].rows
    assert faithful[1] > unfaithful[1] + 0.5
    assert section.data["difference"]["ci_low"] > 0


def test_model_nsg_section_reads_calibrated_answers_when_the_text_never_changes(tiny_dir, tmp_path, monkeypatch):
    from evals.rule_model import LeaningRuleModel

    # The audited model's chat is replaced by one that says "Yes." to everything but leans by a known rule.
    monkeypatch.setattr("overseer.models.chat.local.LocalChatModel", lambda lm: LeaningRuleModel())
    (section,) = run_audit(model=tiny_dir, out_dir=tmp_path, only=["nsg-model"]).sections
    assert section.status == "ok", section.summary
    assert "answered YES to all" in section.summary and "help predict it" in section.summary
    assert section.tables[0].rows[0][1] == pytest.approx(1.0)
    assert section.figures[0].is_file()
