import json

import pytest

from overseer.errors import DatasetError
from overseer.evals.tabular import breast_cancer, build_groups, load_table


def hamming(a, b):
    return sum(a[k] != b[k] for k in a)


def test_nearest_construction_gives_natural_balanced_disjoint_counterfactuals():
    dataset = breast_cancer(n_groups=None, construction="nearest")
    assert len(dataset.groups) >= 10
    seen = set()
    for group in dataset.groups:
        cfs = group.counterfactuals
        assert 5 <= len(cfs) <= 10
        assert all(1 <= hamming(group.centre.features, c.features) <= 2 for c in cfs)
        yes = sum(c.label == "YES" for c in cfs)
        assert abs(yes - (len(cfs) - yes)) <= 1
        ids = [group.centre.case_id] + [c.case_id for c in cfs]
        assert seen.isdisjoint(ids)
        seen.update(ids)
    assert "- mean radius: " in dataset.groups[0].centre.text


def test_group_choice_is_reproducible_and_seeded():
    a, b = breast_cancer(n_groups=5, seed=1), breast_cancer(n_groups=5, seed=1)
    assert [g.centre.case_id for g in a.groups] == [g.centre.case_id for g in b.groups]
    assert [g.centre.case_id for g in a.groups] != [g.centre.case_id for g in breast_cancer(n_groups=5, seed=2).groups]


def _rows(n=60):
    rows = []
    for i in range(n):
        rows.append({"id": f"p{i}", "age": str(20 + (i * 7) % 50), "smoker": "yes" if i % 3 == 0 else "no",
                     "region": ["north", "south"][i % 2], "label": "approve" if (i * 5) % 4 < 2 else "deny"})
    return rows


def test_user_csv_and_jsonl_tables_load_to_the_same_groups(tmp_path):
    rows = _rows()
    csv_path = tmp_path / "t.csv"
    csv_path.write_text("id,age,smoker,region,label\n" + "\n".join(",".join(r.values()) for r in rows) + "\n")
    jsonl_path = tmp_path / "t.jsonl"
    jsonl_path.write_text("\n".join(json.dumps(r) for r in rows))
    a = load_table(csv_path, subject="applicant", question="Approve the loan?")
    b = load_table(jsonl_path, subject="applicant", question="Approve the loan?")
    assert a.task.options == ("approve", "deny") and a.task.question == "Approve the loan?"
    assert [g.to_dict() for g in a.groups] == [g.to_dict() for g in b.groups]
    assert {v for g in a.groups for v in [g.centre.features["age"]]} <= {"low", "medium", "high"}


@pytest.mark.parametrize("mutate, message", [
    (lambda rows: [{k: v for k, v in r.items() if k != "label"} for r in rows], "no label column"),
    (lambda rows: [{**r, "label": "x"} for r in rows], "2 to 10 distinct"),
    (lambda rows: [{**r, "age": ""} if i == 3 else r for i, r in enumerate(rows)], "row 4"),
    (lambda rows: [{"id": r["id"], "age": r["age"], "label": r["label"]} for r in rows], "at least 2 feature"),
    (lambda rows: [{**r, "id": "same"} for r in rows], "duplicate ids"),
])
def test_malformed_user_tables_raise_dataset_errors_that_say_what_is_wrong(tmp_path, mutate, message):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in mutate(_rows())))
    with pytest.raises(DatasetError, match=message):
        load_table(path)


def test_missing_and_unsupported_files_are_dataset_errors(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_table(tmp_path / "nope.csv")
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(DatasetError, match="csv or .jsonl"):
        load_table(tmp_path / "t.xlsx")
    (tmp_path / "bad.jsonl").write_text("{not json}\n")
    with pytest.raises(DatasetError, match="bad.jsonl line 1: not valid JSON"):
        load_table(tmp_path / "bad.jsonl")


@pytest.mark.parametrize("construction", ["paper", "nearest"])
def test_groups_need_two_labels_among_the_counterfactuals(construction):
    features = [{"a": str(i % 2), "b": "x", "c": str(i)} for i in range(20)]
    assert build_groups(features, ["same"] * 20, construction=construction) == []
