import json

import pytest
from typer.testing import CliRunner

from overseer.cli import app

runner = CliRunner()


def test_report_on_a_missing_log_is_one_line_error(tmp_path):
    result = runner.invoke(app, ["redteam", "report", str(tmp_path / "nothing.eval")])
    assert result.exit_code == 1
    assert "no Inspect log" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_run_writes_summary_and_log_then_report_reads_it(tmp_path, needs_bwrap):
    out = tmp_path / "run"
    result = runner.invoke(app, ["redteam", "run", "--model", "overseer-policy/owner-only", "--kinds", "attack",
                                 "--cases", "owner_spoofing", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n"] == 3 and summary["attack_success"]["value"] == 0.0
    again = runner.invoke(app, ["redteam", "report", str(out)])
    assert again.exit_code == 0 and "owner_spoofing" in again.output
