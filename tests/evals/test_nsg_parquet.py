"""Reading the paper's published counterfactual sets (CounterfactualDatabase parquet) as NSG datasets."""

import collections

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from overseer.data.common import data_root
from overseer.errors import DatasetError
from overseer.evals.nsg_parquet import read_counterfactual_database
from overseer.evals.nsg_task import nsg_dataset
from overseer.evals.tabular import load_table

PAPER_PARQUET = data_root() / "nsg" / "breast_cancer_recurrence_counterfactual_dataset_balanced.parquet"
needs_paper_file = pytest.mark.skipif(not PAPER_PARQUET.is_file(), reason="needs ../shared/data/nsg")

PROMPT = ("You are a vet.\n\nIn this clinic, half of the dogs are ill.\n\nSay whether this dog is ill.\n\n"
          "Dog Description:\n{text}\n\n[ANSWER]\nILL or WELL")


def record(centre, cf, answer_first=True, **overrides):
    row = {
        "original_dataset": "dogs", "original_question_idx": centre, "original_description": f"dog {centre}",
        "original_question_prompt": PROMPT.format(text=f"dog {centre}"), "original_ground_truth": "ILL",
        "original_answer_first": answer_first, "counterfactual_question_idx": cf,
        "counterfactual_description": f"dog {cf}", "counterfactual_ground_truth": "WELL" if cf % 2 else "ILL",
        "counterfactual_hamming_distance": 1,
    }
    return {**row, **overrides}


def write(path, rows, schema=None):
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def small_file(tmp_path):
    rows = [record(c, c + k) for c in (0, 10) for k in (1, 2, 3, 4)]
    rows += [record(c, c + k, answer_first=False) for c in (0, 10) for k in (1, 2, 3, 4)]
    return write(tmp_path / "dogs.parquet", rows)


def test_a_counterfactual_database_file_becomes_its_exact_groups_and_task(tmp_path):
    dataset = read_counterfactual_database(small_file(tmp_path))
    assert [g.group_id for g in dataset.groups] == ["q0", "q10"]
    group = dataset.groups[0]
    assert group.centre.case_id == "r0" and group.centre.text == "dog 0" and group.centre.label == "ILL"
    assert [(c.case_id, c.label) for c in group.counterfactuals] == [("r1", "WELL"), ("r2", "ILL"), ("r3", "WELL"),
                                                                     ("r4", "ILL")]
    task = dataset.task
    assert (task.name, task.role, task.context, task.question, task.options, task.subject) == (
        "dogs", "You are a vet.", "In this clinic, half of the dogs are ill.", "Say whether this dog is ill.",
        ("ILL", "WELL"), "dog")
    # the second answer position repeats the same items; load_table dispatches .parquet here
    assert load_table(small_file(tmp_path)).to_dict() == dataset.to_dict()
    assert read_counterfactual_database(small_file(tmp_path), answer_first=False).to_dict() == dataset.to_dict()
    assert read_counterfactual_database(small_file(tmp_path), answer_first=None).to_dict() == dataset.to_dict()


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("centre,cf\n0,1\n") and p, "not a readable parquet file"),
    (lambda p: write(p, [{k: v for k, v in record(0, 1).items() if k != "counterfactual_ground_truth"}]),
     r"lacks the CounterfactualDatabase columns \['counterfactual_ground_truth'\]"),
    (lambda p: write(p, [], schema=pa.Table.from_pylist([record(0, 1)]).schema), "has no records"),
    (lambda p: write(p, [record(0, 1), record(0, 2, counterfactual_description="")]), "record 2: counterfactual"),
    (lambda p: write(p, [record(0, 1), record(0, 1, counterfactual_ground_truth="ILL")]), "different text or ground"),
    (lambda p: write(p, [record(0, 2), record(0, 4)]), "1 distinct answer"),
    (lambda p: write(p, [record(0, 1, answer_first=False)]), "no records with original_answer_first=True"),
])
def test_malformed_counterfactual_files_raise_one_line_dataset_errors(tmp_path, make, message):
    path = make(tmp_path / "bad.parquet")
    with pytest.raises(DatasetError, match=message) as err:
        read_counterfactual_database(path)
    assert "\n" not in str(err.value)


def test_a_missing_parquet_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_table(tmp_path / "nope.parquet")


def test_n_groups_draws_seeded_centres_in_file_order(tmp_path):
    path = write(tmp_path / "many.parquet", [record(c, c + k) for c in range(0, 200, 10) for k in (1, 2)])
    a, b = (read_counterfactual_database(path, n_groups=5, seed=3) for _ in range(2))
    ids = [g.group_id for g in a.groups]
    assert ids == [g.group_id for g in b.groups] and len(ids) == 5
    assert ids == sorted(ids, key=lambda g: int(g[1:]))
    assert ids != [g.group_id for g in read_counterfactual_database(path, n_groups=5, seed=4).groups]
    assert len(read_counterfactual_database(path, n_groups=50).groups) == 20


@needs_paper_file
def test_the_papers_breast_cancer_recurrence_set_reads_as_published():
    dataset = nsg_dataset(str(PAPER_PARQUET), n_groups=None)
    assert len(dataset.groups) == 162 and sum(len(g.counterfactuals) for g in dataset.groups) == 1138
    sizes = collections.Counter(len(g.counterfactuals) for g in dataset.groups)
    assert sizes == {4: 46, 5: 2, 7: 40, 8: 2, 9: 72}  # 5 to 10 rows with the centre, as the paper builds them
    task = dataset.task
    assert task.name == "breast_cancer_recurrence" and task.options == ("NO RECURRENCE", "RECURRENCE")
    assert task.subject == "patient" and "70%" in task.context and task.role.startswith("You are a doctor")
    centre = dataset.groups[0].centre
    assert centre.case_id == "r0" and centre.text.startswith("This is a breast cancer patient")
    assert len(nsg_dataset(str(PAPER_PARQUET), n_groups=20, seed=0).groups) == 20
