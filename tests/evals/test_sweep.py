"""`run_sweep`: every task on every model through Inspect's eval_set, resumable, readable by jagged profile."""

from __future__ import annotations

import pytest

from overseer.errors import InvalidInputError
from overseer.evals.readers import read_results
from overseer.evals.sweep import run_sweep

MODELS = ["overseer-policy/refuse-all", "overseer-policy/gap-complier?gap=0.3"]


def test_sweep_runs_every_model_and_a_rerun_resumes_without_new_logs(tmp_path):
    first = run_sweep(["overseer/gap"], MODELS, tmp_path, limit=6, task_args={"n_per_behaviour": 2})
    assert first.complete
    assert sorted(e.model for e in first.entries) == sorted(MODELS)
    assert all(e.status == "success" and e.samples == 6 for e in first.entries)
    logs = sorted(p.name for p in tmp_path.glob("*.eval"))
    again = run_sweep(["overseer/gap"], MODELS, tmp_path, limit=6, task_args={"n_per_behaviour": 2})
    assert again.complete
    assert sorted(p.name for p in tmp_path.glob("*.eval")) == logs
    report = read_results([tmp_path])
    assert len({item.model for item in report.items}) == 2  # what `overseer jagged profile DIR` reads


def test_sweep_without_tasks_or_models_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidInputError, match="--task"):
        run_sweep([], MODELS, tmp_path)
    with pytest.raises(InvalidInputError, match="--model"):
        run_sweep(["overseer/gap"], [], tmp_path)
