"""The audit's terminal output: one line per section, no library progress bars, no blank lines."""

import io

import pytest
from rich.console import Console

from overseer.report.audit import run_audit
from overseer.report.terminal import SectionProgress

from helpers.tiny_models import tiny_hf_model, tiny_tokenizer


@pytest.mark.slow
def test_each_section_prints_one_line_and_nothing_else(tmp_path, capfd):
    model_dir = tmp_path / "model"
    tiny_hf_model("gpt2").save_pretrained(model_dir)
    tiny_tokenizer().save_pretrained(model_dir)
    capfd.readouterr()
    out = io.StringIO()
    started = []
    with SectionProgress(Console(file=out, width=120)) as progress:
        def start(key, title):
            started.append(key)
            progress.start(key, title)

        run_audit(model=str(model_dir), out_dir=tmp_path / "audit", only=["models"], on_start=start,
                  on_section=progress.done)
    lines = out.getvalue().splitlines()
    assert started == ["models"]
    assert len(lines) == 2 and lines[0].split()[0] == "ok" and "Models under audit" in lines[0]
    assert lines[1].startswith("total: ") and "torch" in lines[1]  # the total time and the machine
    captured = capfd.readouterr()
    assert "Loading weights" not in captured.err + captured.out
    assert not any(not line.strip() for line in (captured.out + captured.err).splitlines())


def test_loading_a_model_shows_no_transformers_progress_bar(capfd):
    from overseer.models import load_model

    capfd.readouterr()
    load_model("organism")
    captured = capfd.readouterr()
    assert "Loading weights" not in captured.err and "Loading weights" not in captured.out


def test_a_sections_own_bar_becomes_a_row_of_the_section_display():
    from overseer.models.progress import progress_bar

    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    seen = []
    with SectionProgress(console) as progress:
        progress.start("k", "Section")
        for _ in progress_bar(range(3), "inner"):
            seen.append([t.description for t in progress.progress.tasks])
        after = [t.description for t in progress.progress.tasks]
    assert seen == [["Section", "inner"]] * 3 and after == ["Section"]
    for _ in progress_bar(range(2), "alone", enabled=False):
        pass  # outside the display, bars are on their own again
