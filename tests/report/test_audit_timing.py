"""The audit states how long each section took, the total, and the machine it ran on."""

import json
import time

import pytest

from overseer.errors import InvalidInputError
from overseer.report import audit as audit_module
from overseer.report.audit import SectionSpec, run_audit
from overseer.report.sections import Section
from overseer.report.timing import duration, machine_info, machine_line, timing_table

from helpers.tiny_models import tiny_hf_model, tiny_tokenizer


def _sleeper(key: str, seconds: float):
    def run(ctx):
        time.sleep(seconds)
        return Section(key, key.title(), summary="slept")

    return SectionSpec(key, key.title(), run)


def test_each_sections_time_and_the_total_are_recorded_and_rendered(tmp_path, monkeypatch):
    monkeypatch.setattr(audit_module, "_registry", lambda: [_sleeper("short", 0.05), _sleeper("long", 0.25)])
    result = run_audit(out_dir=tmp_path)
    short, long = result.sections
    assert 0.05 <= short.seconds < long.seconds and long.seconds >= 0.25
    assert result.seconds >= short.seconds + long.seconds
    saved = json.loads((tmp_path / "audit.json").read_text())
    assert saved["seconds"] >= 0.3 and saved["machine"]["torch_threads"] >= 1 and saved["quick"] is True
    assert [round(s["seconds"], 3) for s in saved["sections"]] == [round(short.seconds, 3), round(long.seconds, 3)]
    # a sleeping section waits: its CPU time is well below its wall time, and the report keeps both
    assert set(saved["cpu_seconds"]) == {"short", "long"} and saved["cpu_seconds"]["long"] < 0.5 * long.seconds
    html = (tmp_path / "report.html").read_text()
    assert "How long it took" in html and "total (wall clock)" in html
    assert machine_line(result.machine) in html.replace("&#x27;", "'")
    assert f"<td>{round(long.seconds, 1):.4g}</td>" in html


def test_the_timing_table_ends_with_the_total_and_shares_add_up():
    sections = [Section("a", "A", seconds=30.0), Section("b", "B", "skipped", seconds=90.0)]
    table = timing_table(sections, 120.0)
    assert [r[0] for r in table.rows] == ["A", "B", "total (wall clock)"]
    assert [r[4] for r in table.rows] == ["25%", "75%", "100%"] and table.rows[-1][5] == ""
    assert [duration(s) for s in (42, 185, 3725)] == ["42 s", "3 min 05 s", "1 h 02 min"]


def test_the_machine_line_names_cpus_threads_and_gpu():
    machine = machine_info()
    line = machine_line(machine)
    assert f"{machine['cpus']} CPUs" in line and f"torch {machine['torch_threads']} threads" in line
    assert ("no GPU" in line) == (machine["gpu"] is None)


def test_a_tiny_real_audit_records_its_section_time(tmp_path):
    model_dir = tmp_path / "model"
    tiny_hf_model("gpt2").save_pretrained(model_dir)
    tiny_tokenizer().save_pretrained(model_dir)
    result = run_audit(model=str(model_dir), out_dir=tmp_path / "audit", only=["models"])
    (section,) = result.sections
    assert section.status == "ok" and 0 < section.seconds <= result.seconds
    html = (tmp_path / "audit" / "report.html").read_text()
    assert "How long it took" in html and "Models under audit" in html and "1 section(s), quick audit" in html


def test_a_scale_outside_0_to_1_is_rejected_before_any_section_runs(tmp_path):
    with pytest.raises(InvalidInputError, match="scale must be in"):
        run_audit(out_dir=tmp_path, only=["models"], scale=0)
