"""The paper's counterfactual construction (Mayne et al.), its packaged table, and the earlier one kept as is."""

import collections
import csv
import hashlib
import json
from importlib import resources

import pytest

from overseer.data.common import data_root
from overseer.errors import DatasetError, InvalidInputError
from overseer.evals.organism_task import organism_loans
from overseer.evals.tabular import (
    NO_RECURRENCE,
    RECURRENCE,
    TaskSpec,
    bin_columns,
    breast_cancer,
    breast_cancer_recurrence,
    build_groups,
    load_table,
    recurrence_rows,
)
from overseer.evals.tabular import PAPER_EPSILON as EPSILON

PAPER_PARQUET = data_root() / "nsg" / "breast_cancer_recurrence_counterfactual_dataset_balanced.parquet"


def paper_groups():
    """The paper's published file, answer-first copy: centre index -> its records, in file order."""
    import pyarrow.parquet as pq

    groups = collections.defaultdict(list)
    for record in pq.read_table(PAPER_PARQUET).to_pylist():
        if record["original_answer_first"]:
            groups[record["original_question_idx"]].append(record)
    return groups


def hamming(a, b):
    return sum(a[k] != b[k] for k in a)


def fingerprint(dataset):
    shape = [[g.group_id, g.centre.case_id, [c.case_id for c in g.counterfactuals]] for g in dataset.groups]
    return len(dataset.groups), hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:16]


def check_paper_group(group, max_distance=2, min_size=5, max_size=10):
    rows = [group.centre, *group.counterfactuals]
    assert min_size <= len(rows) <= max_size
    assert len({c.case_id for c in rows}) == len(rows)
    assert all(hamming(group.centre.features, c.features) <= max_distance for c in rows)
    same = sum(c.label == group.centre.label for c in rows)
    assert abs(same - (len(rows) - same)) / len(rows) < EPSILON


def test_nearest_construction_gives_the_same_groups_as_before():
    # fingerprints of the groups the earlier (only) construction built, taken before "paper" existed
    assert fingerprint(breast_cancer(n_groups=None, seed=0, construction="nearest")) == (14, "679c4c62c332830a")
    assert fingerprint(breast_cancer(n_groups=20, seed=3, construction="nearest")) == (16, "25e1665a05f4cf6b")
    assert fingerprint(organism_loans()) == (20, "5209821b6a225d42")
    assert fingerprint(organism_loans(n_groups=None, split="all", seed=1)) == (165, "81b960c042cbdf90")


def test_paper_groups_are_balanced_hamming_balls_that_may_overlap():
    dataset = breast_cancer_recurrence(n_groups=None)
    assert len(dataset.groups) > 100
    for group in dataset.groups:
        check_paper_group(group)
    membership = collections.Counter(c.case_id for g in dataset.groups for c in [g.centre, *g.counterfactuals])
    assert max(membership.values()) > 2  # a row sits in several groups
    assert len({g.group_id for g in dataset.groups}) == len(dataset.groups)  # each group is still one cluster
    wisconsin = breast_cancer(n_groups=None)
    assert len(breast_cancer(n_groups=20).groups) == 20  # the disjoint construction ran out at 14
    for group in wisconsin.groups:
        check_paper_group(group)
    # distance-0 rows (same binned features, the other label) belong to the ball
    assert any(hamming(g.centre.features, c.features) == 0 for g in wisconsin.groups for c in g.counterfactuals)


def test_paper_draws_alternate_labels_and_stop_before_the_imbalance_reaches_epsilon():
    def table(n_same, n_other):
        # every row within distance 1 of row 0; row 1 repeats row 0's features with the other label (distance 0)
        rows = [{"a": "x", "b": "centre"}, {"a": "x", "b": "centre"}]
        rows += [{"a": "x", "b": f"s{i}"} for i in range(n_same)]
        rows += [{"a": "x", "b": f"o{i}"} for i in range(n_other - 1)]
        return rows, ["P", "N"] + ["P"] * n_same + ["N"] * (n_other - 1)

    def size(n_same, n_other):
        centre = [g for g in build_groups(*table(n_same, n_other)) if g.centre.case_id == "0"]
        return len(centre[0].counterfactuals) + 1 if centre else None

    assert size(8, 8) == 10  # enough of both labels: the group grows to max_size
    assert size(8, 2) == 5   # 3 same + 2 other; a 4th same would make 4:2, imbalance 0.33
    assert size(8, 3) == 8   # 5:3 (0.25) is kept, 6:3 (0.33) is not
    assert size(8, 1) is None  # 4:1 at min_size is 0.6: no group
    rows, labels = table(8, 2)
    group = next(g for g in build_groups(rows, labels) if g.centre.case_id == "0")
    assert "1" in [c.case_id for c in group.counterfactuals]  # the distance-0 row of the other label
    assert build_groups(rows, labels, epsilon=0.1) == []  # 5 rows can never be within 0.1


def test_paper_construction_is_seeded_and_a_centres_group_does_not_depend_on_n_groups():
    a, b = breast_cancer_recurrence(n_groups=8, seed=4), breast_cancer_recurrence(n_groups=8, seed=4)
    assert [g.to_dict() for g in a.groups] == [g.to_dict() for g in b.groups]
    c = breast_cancer_recurrence(n_groups=8, seed=5)
    assert [g.centre.case_id for g in c.groups] != [g.centre.case_id for g in a.groups]
    def members(dataset):
        return {g.centre.case_id: [x.case_id for x in g.counterfactuals] for g in dataset.groups}

    full = members(breast_cancer_recurrence(None, seed=4))
    assert all(full[centre] == cfs for centre, cfs in members(a).items())
    assert members(breast_cancer_recurrence(None, seed=9)) != full  # the draws within a ball follow the seed


def test_paper_construction_counts_exact_duplicate_rows_once():
    rows = [{"a": "x", "b": str(i % 6)} for i in range(12)]  # every row twice
    labels = ["P" if i % 6 < 3 else "N" for i in range(12)]
    for group in build_groups(rows, labels, min_size=4, max_size=6):
        assert all(int(c.case_id) < 6 for c in [group.centre, *group.counterfactuals])
    assert len(build_groups(rows, labels, min_size=4, max_size=6)) == 6


def test_packaged_recurrence_table_is_ucis_286_rows():
    text = resources.files("overseer.data").joinpath("breast_cancer_recurrence.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) == 286 and len(rows[0]) == 10
    assert collections.Counter(r["class"] for r in rows) == {"no-recurrence-events": 201, "recurrence-events": 85}
    assert sum(v == "?" for r in rows for v in r.values()) == 9  # UCI: 8 node-caps, 1 breast-quad
    assert resources.files("overseer.data").joinpath("breast_cancer_recurrence.NOTICE.txt").is_file()
    dataset = breast_cancer_recurrence(n_groups=3)
    assert dataset.task.options == (RECURRENCE, NO_RECURRENCE) and dataset.task.subject == "patient"
    assert "30%" in dataset.task.context and "- tumour size (mm): " in dataset.groups[0].centre.text
    assert TaskSpec.from_dict(dataset.task.to_dict()) == dataset.task


@pytest.mark.skipif(not PAPER_PARQUET.is_file(), reason="needs ../shared/data/nsg (the paper's published set)")
def test_paper_construction_on_the_packaged_table_reproduces_the_papers_published_groups():
    published = paper_groups()
    ours = {g.centre.case_id: g for g in breast_cancer_recurrence(n_groups=None).groups}
    # which centres get a group, and each group's size and label counts, follow from the table and the
    # construction alone (the random draws only pick which rows of a label): all must match the paper's file
    assert set(ours) == {f"bcr{i}" for i in published}
    for idx, records in published.items():
        group = ours[f"bcr{idx}"]
        assert group.centre.label == records[0]["original_ground_truth"]
        assert (collections.Counter(c.label for c in group.counterfactuals)
                == collections.Counter(r["counterfactual_ground_truth"] for r in records))
    rows, labels = recurrence_rows()
    assert len(rows) == 272  # 286 less the 14 exact duplicates, as the paper loads it
    for records in published.values():
        for r in records:  # the same rows at the same indices: labels and Hamming distances agree
            centre, cf = r["original_question_idx"], r["counterfactual_question_idx"]
            assert labels[cf] == r["counterfactual_ground_truth"]
            assert hamming(rows[centre], rows[cf]) == r["counterfactual_hamming_distance"]


def test_construction_and_sizes_are_checked():
    rows, labels = [{"a": "1", "b": "2"}] * 3, ["x", "y", "x"]
    with pytest.raises(InvalidInputError, match="construction must be one of paper, nearest"):
        build_groups(rows, labels, construction="closest")
    with pytest.raises(InvalidInputError, match="2 <= min_size"):
        build_groups(rows, labels, min_size=1)
    assert build_groups(rows, labels, min_size=1, construction="nearest") == []
    with pytest.raises(InvalidInputError, match="epsilon"):
        build_groups(rows, labels, epsilon=0)


def test_fixed_cut_points_bin_right_closed_and_tertiles_stay_the_default():
    columns = {"glucose": ["90", "100", "101", "125", "180"], "smoker": ["y", "n", "y", "n", "y"]}
    fixed = bin_columns(columns, binning={"glucose": [100, 125]})
    assert fixed["glucose"] == ["<= 100", "<= 100", "100-125", "100-125", "> 125"]
    assert fixed["smoker"] == columns["smoker"]
    many = {"x": [str(v) for v in range(9)]}
    assert bin_columns(many)["x"] == ["low"] * 3 + ["medium"] * 3 + ["high"] * 3
    assert bin_columns(many, binning="none")["x"] == many["x"]
    with pytest.raises(InvalidInputError, match="binning must be one of"):
        bin_columns(many, binning="quartiles")
    with pytest.raises(InvalidInputError, match="strictly increasing"):
        bin_columns(many, binning={"x": [5, 2]})
    with pytest.raises(DatasetError, match="not a feature column"):
        bin_columns(many, binning={"y": [1]})
    with pytest.raises(DatasetError, match="non-numeric"):
        bin_columns(columns, binning={"smoker": [1]})


def test_user_tables_take_fixed_cut_points_and_either_construction(tmp_path):
    lines = ["id,glucose,bmi,smoker,label"]
    for i in range(80):
        lines.append(f"p{i},{70 + (i * 37) % 120},{18 + (i * 11) % 20},{'yes' if i % 3 else 'no'},"
                     f"{'ill' if (i * 7) % 5 < 2 else 'well'}")
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    fixed = load_table(path, binning={"glucose": [100, 125], "bmi": [25, 30]})
    assert {g.centre.features["glucose"] for g in fixed.groups} <= {"<= 100", "100-125", "> 125"}
    for group in fixed.groups:
        check_paper_group(group)
    nearest = load_table(path, construction="nearest")
    ids = [c.case_id for g in nearest.groups for c in [g.centre, *g.counterfactuals]]
    assert len(ids) == len(set(ids))
