import pytest

from overseer.report.audit import SECTIONS, AuditContext


@pytest.mark.slow
def test_wargame_section_reports_the_ground_truth_and_the_models_tournament(tmp_path):
    section = SECTIONS.get("wargame")(AuditContext(model="organism", out_dir=tmp_path, quick=True))
    assert section.status == "ok" and len(section.tables) == 2 and all(f.exists() for f in section.figures)
    truth = section.data["ground_truth"]["summary"]
    assert truth["n_games"] == 2
    assert next(r for r in truth["rows"] if r["metric"] == "games with tactical nuclear use")["value"] == "2 of 2"
    assert section.data["model"]["summary"]["n_games"] == 2
    assert "without accidents" in section.summary
