"""The jaggedness readers on real files written by lm-evaluation-harness 0.4.13 and Inspect AI."""

import gzip
import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from overseer.data.common import data_root
from overseer.errors import DatasetError
from overseer.evals.cli import jagged_app
from overseer.evals.jaggedness import jaggedness
from overseer.evals.readers import ItemScore, read_inspect, read_lm_eval, read_results

LOGS = data_root() / "third_party_logs"
LM_EVAL = LOGS / "lm_eval"
INSPECT = LOGS / "inspect"
CANCELLED = INSPECT / "analysis/test_logs/2025-05-12T20-28-13-04-00_popularity.json"
POPULARITY_10 = INSPECT / "scorer/logs/2025-02-11T15-18-04-05-00_popularity_mj7khqpMM4GBCfVQozKgzB.eval"
EPOCHS = INSPECT / "log/test_eval_log/log_streaming.eval"


def means(items):
    by: dict[tuple[str, str], list[float]] = {}
    for it in items:
        by.setdefault((it.model, it.domain), []).append(it.score)
    return {key: sum(v) / len(v) for key, v in by.items()}


def test_lm_eval_means_equal_lm_evals_own_accuracies_for_every_filter():
    report = read_results([LM_EVAL])
    got = means(report.items)
    metric_of = {(it.model, it.domain): it.metric for it in report.items}
    checked = 0
    for results_file in LM_EVAL.glob("model-*/results_*.json"):
        data = json.loads(results_file.read_text())
        for task, row in data["results"].items():
            filters = sorted({key.split(",")[1] for key in row if "," in key and "_stderr" not in key})
            for filt in filters:
                domain = task if filters == ["none"] else f"{task}/{filt}"
                metric = metric_of[(data["model_name"], domain)]
                key = metric if "," in metric else f"{metric},none"
                assert got[(data["model_name"], domain)] == pytest.approx(row[key], abs=1e-12), (domain, key)
                checked += 1
    assert checked == 3 * 5  # three models x (three one-filter tasks + spelling under two filters)
    assert got[("model-a", "dom_spelling/strict")] == pytest.approx(0.35)  # was 0.00: `upper` overwrote it
    assert got[("model-a", "dom_spelling/upper")] == 0.0


def test_one_lm_eval_filter_can_be_kept_and_an_unknown_one_is_named():
    spelling = next((LM_EVAL / "model-a").glob("samples_dom_spelling_*.jsonl"))
    strict = read_lm_eval(spelling, lm_eval_filter="strict")
    assert {it.domain for it in strict} == {"dom_spelling"} and len(strict) == 20
    assert np.mean([it.score for it in strict]) == pytest.approx(0.35)
    algebra = next((LM_EVAL / "model-a").glob("samples_dom_algebra_*.jsonl"))
    assert len(read_lm_eval(algebra, lm_eval_filter="strict")) == 40  # one filter only: read whole
    with pytest.raises(DatasetError, match="no filter 'loose'.*strict, upper"):
        read_lm_eval(spelling, lm_eval_filter="loose")


def test_a_file_whose_rows_carry_different_metrics_is_an_error(tmp_path):
    source = next((LM_EVAL / "model-a").glob("samples_dom_algebra_*.jsonl"))
    rows = [json.loads(line) for line in source.read_text().splitlines()]
    for row in rows[:10]:
        row["exact_match"] = row.pop("acc")
        row.pop("acc_norm")
        row["metrics"] = ["exact_match"]
    mixed = tmp_path / source.name
    mixed.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(DatasetError, match=r"different metrics \(acc in 30 rows, exact_match in 10 rows\)"):
        read_lm_eval(mixed)
    with pytest.raises(DatasetError, match="has no metric acc_norm"):
        read_lm_eval(mixed, metric="acc_norm")


@pytest.mark.parametrize("name", ["samples_dom_x_2026-01-01T00-00-00.000000.jsonl", "overseer.json"])
def test_binary_or_non_utf8_files_give_one_line_errors_naming_the_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(gzip.compress(b'{"doc_id": 0, "acc": 1.0}\n') if name.endswith("jsonl")
                     else '{"model": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(DatasetError) as info:
        read_results([path], fmt="lm-eval" if name.endswith("jsonl") else "overseer")
    message = str(info.value)
    assert str(path) in message and "UTF-8" in message and "\n" not in message
    result = CliRunner().invoke(jagged_app, ["profile", str(path)])
    assert result.exit_code == 1 and "not UTF-8" in result.output and "Traceback" not in result.output


def test_inspect_means_equal_inspects_reported_accuracy_epochs_included():
    checked = 0
    for path in sorted(INSPECT.rglob("*")):
        if path.suffix not in (".eval", ".json"):
            continue
        from inspect_ai.log import read_eval_log

        try:
            log = read_eval_log(str(path))
        except Exception:
            continue
        if not any(s.scores for s in log.samples or []):
            continue
        items = read_inspect(path)
        reported = log.results.scores[0].metrics["accuracy"].value
        assert np.mean([it.score for it in items]) == pytest.approx(reported), path
        checked += 1
    assert checked >= 15
    epochs = read_inspect(EPOCHS)
    assert sorted((it.item_id, it.epoch) for it in epochs) == [("1", 1), ("1", 2), ("2", 1), ("2", 2)]


def test_cancelled_inspect_logs_are_used_with_a_note():
    notes: list[str] = []
    items = read_inspect(CANCELLED, notes=notes)
    assert len(items) == 3 and np.mean([it.score for it in items]) == pytest.approx(2 / 3)
    assert any("status 'cancelled'" in note and str(CANCELLED) in note for note in notes)


def test_item_ids_repeated_across_files_are_kept_with_a_note_not_overwritten():
    report = read_results([CANCELLED, POPULARITY_10])
    assert len(report.items) == 13
    assert means(report.items)[("openai/gpt-4o-mini", "popularity")] == pytest.approx(10 / 13)  # was 0.800
    repeat_notes = [n for n in report.notes if "scored in 2 files" in n]
    assert len(repeat_notes) == 1 and "3 item ids" in repeat_notes[0]
    # the repeats are one item each in the bootstrap: 10 units, 13 observations
    other = [ItemScore(m, "popularity", str(i), float(i % 2)) for m in ("b", "c") for i in range(1, 11)]
    extra = [ItemScore(m, "other", str(i), float(i % 3 == 0)) for m in ("openai/gpt-4o-mini", "b", "c")
             for i in range(5)]
    result = jaggedness(report.items + other + extra, n_boot=20, irt=False)
    assert result.n_items["popularity"] == 10 and result.n_observations["popularity"] == 33


def test_the_same_inspect_run_saved_twice_is_read_once():
    twin = INSPECT / "log/test_eval_log"
    report = read_results([twin / "log_formats.eval", twin / "log_formats.json"])
    assert len(report.items) == 1
    assert any("same Inspect run" in note for note in report.notes)


def test_a_folder_run_skips_bad_files_with_a_reason_and_strict_fails(tmp_path):
    report = read_results([INSPECT])
    assert len(report.skipped) == 3
    assert all("no scored samples" in reason for reason in report.skipped.values())
    with pytest.raises(DatasetError, match="no scored samples"):
        read_results([INSPECT], strict=True)
    folder = tmp_path / "logs"
    shutil.copytree(LM_EVAL / "model-a", folder)
    (folder / "samples_broken_2026-01-01T00-00-00.000000.jsonl").write_bytes(b"\x1f\x8b\x08\x00garbage")
    report = read_results([folder])
    assert len(report.skipped) == 1 and len({it.domain for it in report.items}) == 5
    runner = CliRunner()
    result = runner.invoke(jagged_app, ["profile", str(folder), str(LM_EVAL / "model-b"), str(LM_EVAL / "model-c"),
                                        "--n-boot", "20", "--no-irt", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "skipped:" in result.output and "samples_broken" in result.output
    strict = runner.invoke(jagged_app, ["profile", str(folder), "--strict", "--out", str(tmp_path / "out2")])
    assert strict.exit_code == 1 and "not UTF-8" in strict.output


def test_cli_profiles_the_real_lm_eval_runs_one_domain_per_filter(tmp_path):
    result = CliRunner().invoke(jagged_app, ["profile", str(LM_EVAL), "--n-boot", "50", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "dom_spelling is scored under filters strict, upper" in result.output
    data = json.loads((tmp_path / "jaggedness.json").read_text())
    assert data["scores"]["model-a"]["dom_spelling/strict"] == pytest.approx(0.35)
    assert data["n_items"]["dom_algebra"] == 40 and data["irt"]["converged"]
    assert data["read"]["n_observations"] == 3 * (40 + 30 + 25 + 2 * 20)
