import json

import numpy as np
import pytest
from typer.testing import CliRunner

from overseer.errors import DatasetError, InvalidInputError
from overseer.evals.cli import jagged_app
from overseer.evals.jaggedness import fit_irt, jaggedness, z_scores
from overseer.evals.readers import ItemScore, read_results, write_overseer_results

DOMAINS = ("algebra", "biology", "chemistry", "law")


def synthetic(rates: dict[str, dict[str, float]], n_items=20, seed=0):
    rng = np.random.default_rng(seed)
    items = []
    for model, by_domain in rates.items():
        for domain, p in by_domain.items():
            for i in range(n_items):
                items.append(ItemScore(model, domain, f"{domain}-{i}", float(rng.random() < p)))
    return items


FLAT = {"flat": dict.fromkeys(DOMAINS, 0.6), "flat2": dict.fromkeys(DOMAINS, 0.5),
        "spiky": {"algebra": 0.95, "biology": 0.1, "chemistry": 0.9, "law": 0.15},
        "flat3": dict.fromkeys(DOMAINS, 0.55)}


def test_z_is_leave_one_out_and_winsorised():
    x = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0], [100.0, 1.0]])
    z = z_scores(x, clip=3.0)
    others = x[1:, 0]
    assert z[0, 0] == pytest.approx((0.0 - others.mean()) / others.std())
    assert z[3, 0] == 3.0  # winsorised
    assert (z[:, 1] == 0).all()  # no spread in the reference population: no signal


def test_spiky_profile_is_more_jagged_than_flat_ones_with_bootstrap_cis():
    result = jaggedness(synthetic(FLAT), n_boot=200, irt_boot=10)
    j = result.jaggedness
    assert j["spiky"] > max(j["flat"], j["flat2"], j["flat3"])
    low, high = result.jaggedness_ci["spiky"]
    assert low <= j["spiky"] <= high and low > max(result.jaggedness_ci["flat"])
    assert result.reference.startswith("other models")


def test_human_baseline_replaces_the_model_population():
    baseline = {d: (0.5, 0.1) for d in DOMAINS}
    result = jaggedness(synthetic(FLAT), human_baseline=baseline, n_boot=50, irt=False)
    assert result.reference == "human baseline"
    assert result.z["spiky"]["algebra"] == pytest.approx(3.0)  # (0.95 - 0.5) / 0.1 clipped
    with pytest.raises(InvalidInputError, match="no \\(mean, sd\\)"):
        jaggedness(synthetic(FLAT), human_baseline={"algebra": (0.5, 0.1)}, n_boot=10)


def test_irt_recovers_capability_order_and_difficulty_and_finds_inversions():
    rates = {"weak": {"easy": 0.7, "mid": 0.3, "hard": 0.05}, "mid": {"easy": 0.9, "mid": 0.6, "hard": 0.2},
             "strong": {"easy": 0.98, "mid": 0.9, "hard": 0.7},
             "odd": {"easy": 0.1, "mid": 0.5, "hard": 0.9}}
    result = jaggedness(synthetic(rates, n_items=60), n_boot=50, irt_boot=5)
    cap, diff = result.irt.capability, result.irt.difficulty
    assert cap["weak"] < cap["mid"] < cap["strong"]
    assert diff["easy"] < diff["mid"] < diff["hard"]
    odd = [(i.failed_easier, i.passed_harder) for i in result.inversions if i.model == "odd"]
    assert ("easy", "hard") in odd and result.inversion_rate["strong"] == 0.0


def test_fit_irt_matches_a_known_logistic_model():
    c_true, d_true = np.array([-1.0, 0.0, 1.5]), np.array([-1.0, 0.5, 1.0])
    n = np.full((3, 3), 2000.0)
    k = n / (1 + np.exp(-(c_true[:, None] - d_true[None, :])))
    opt = fit_irt(k, n)
    centred = (opt.capability[:, None] - opt.difficulty[None, :]) * opt.discrimination[None, :]
    np.testing.assert_allclose(centred, c_true[:, None] - d_true[None, :], atol=0.15)


def neg_log_posterior(params, k, n, prior_sd=2.0):
    """The 2PL MAP objective written out independently of overseer's solver."""
    from scipy.special import log_expit

    m, b = k.shape
    c, d, log_a = params[:m], params[m:m + b], params[m + b:]
    u = np.exp(log_a)[None, :] * (c[:, None] - d[None, :])
    loglik = (k * log_expit(u) + (n - k) * log_expit(-u)).sum()
    return -loglik + ((c ** 2).sum() + (d ** 2).sum()) / (2 * prior_sd ** 2) + (log_a ** 2).sum() / (2 * 0.25)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_irt_converges_to_the_scipy_optimum(seed):
    from scipy.optimize import minimize

    rng = np.random.default_rng(seed)
    n = rng.integers(20, 60, size=(5, 4)).astype(float)
    k = rng.binomial(n.astype(int), rng.uniform(0.05, 0.95, size=(5, 4))).astype(float)
    opt = fit_irt(k, n)
    assert opt.converged and opt.iterations < 200
    ref = minimize(neg_log_posterior, np.zeros(13), args=(k, n), method="BFGS", options={"gtol": 1e-9})
    np.testing.assert_allclose(opt.params, ref.x, atol=1e-3)
    assert neg_log_posterior(opt.params, k, n) <= ref.fun + 1e-9
    stopped = fit_irt(k, n, max_iter=2)
    assert not stopped.converged and np.abs(stopped.params - ref.x).max() > 1e-3


def test_epochs_of_an_item_are_one_bootstrap_unit():
    """Scoring each item 4 times (epochs) must not narrow the CI; 4 x as many distinct items does."""
    once = synthetic(FLAT, n_items=12)
    epochs = [ItemScore(it.model, it.domain, it.item_id, it.score, epoch=e) for it in once for e in (1, 2, 3, 4)]
    distinct = [ItemScore(it.model, it.domain, f"{it.item_id}#{e}", it.score) for it in once for e in (1, 2, 3, 4)]
    r_once, r_epochs, r_distinct = (jaggedness(items, n_boot=300, irt=False) for items in (once, epochs, distinct))
    assert r_epochs.jaggedness == pytest.approx(r_once.jaggedness)
    assert r_epochs.jaggedness_ci == pytest.approx(r_once.jaggedness_ci)
    assert r_epochs.n_items == {d: 12 for d in DOMAINS} and r_epochs.n_observations["law"] == 4 * 12 * 4
    width = {name: np.mean([hi - lo for lo, hi in r.jaggedness_ci.values()])
             for name, r in (("once", r_once), ("distinct", r_distinct))}
    assert width["distinct"] < 0.85 * width["once"]


def test_missing_cells_and_too_few_models_are_clear_errors():
    items = synthetic({"a": {"x": 0.5, "y": 0.5}, "b": {"x": 0.5}, "c": {"x": 0.2, "y": 0.1}})
    with pytest.raises(InvalidInputError, match="missing"):
        jaggedness(items, n_boot=5)
    with pytest.raises(InvalidInputError, match="at least 3 models"):
        jaggedness(synthetic({"a": {"x": 0.5, "y": 0.5}, "b": {"x": 0.1, "y": 0.5}}), n_boot=5)


def write_all_formats(tmp_path):
    """One model per format, same two domains, so the profile needs all three readers."""
    write_overseer_results(tmp_path / "m1.json", "overseer-model",
                           [{"domain": d, "item_id": f"{d}{i}", "score": float(i % 2)} for d in ("arc", "gsm8k")
                            for i in range(6)])
    lm_dir = tmp_path / "lm" / "org__lm-model"
    lm_dir.mkdir(parents=True)
    (lm_dir / "results_2026-01-01T00-00-00.000000.json").write_text(json.dumps({"model_name": "lm-model"}))
    for task, acc in (("arc", 1.0), ("gsm8k", 0.0)):
        lines = [json.dumps({"doc_id": i, "doc": {}, "target": "A", "resps": [], "filtered_resps": [],
                             "acc" if task == "arc" else "exact_match": acc if i < 5 else 1 - acc})
                 for i in range(6)]
        (lm_dir / f"samples_{task}_2026-01-01T00-00-00.000000.jsonl").write_text("\n".join(lines))
    from inspect_ai.log import EvalConfig, EvalDataset, EvalLog, EvalSample, EvalSpec, write_eval_log
    from inspect_ai.scorer import Score

    for task, pattern in (("arc", "CCCCII"), ("gsm8k", "CCIIII")):
        spec = EvalSpec(created="2026-01-01T00:00:00+00:00", task=task, dataset=EvalDataset(),
                        model="openai/inspect-model", config=EvalConfig())
        samples = [EvalSample(id=f"{task}{i}", epoch=1, input="q", target="a", scores={"match": Score(value=v)})
                   for i, v in enumerate(pattern)]
        write_eval_log(EvalLog(eval=spec, samples=samples), str(tmp_path / f"{task}.eval"))


def test_readers_accept_overseer_lm_eval_and_inspect_files(tmp_path):
    write_all_formats(tmp_path)
    items = read_results([tmp_path / "m1.json", tmp_path / "lm", tmp_path / "arc.eval",
                          tmp_path / "gsm8k.eval"]).items
    by_model = {}
    for it in items:
        by_model.setdefault(it.model, {}).setdefault(it.domain, []).append(it.score)
    assert set(by_model) == {"overseer-model", "lm-model", "openai/inspect-model"}
    assert by_model["lm-model"]["arc"] == [1.0] * 5 + [0.0]
    assert by_model["lm-model"]["gsm8k"] == [0.0] * 5 + [1.0]
    assert by_model["openai/inspect-model"]["arc"] == [1.0] * 4 + [0.0] * 2
    assert len(by_model["overseer-model"]["gsm8k"]) == 6


def test_cli_profiles_all_three_formats_and_writes_json_and_figure(tmp_path):
    write_all_formats(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(jagged_app, ["profile", str(tmp_path / "m1.json"), str(tmp_path / "lm"),
                                             str(tmp_path / "arc.eval"), str(tmp_path / "gsm8k.eval"),
                                             "--n-boot", "50", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "jaggedness.json").read_text())
    assert set(data["models"]) == {"overseer-model", "lm-model", "openai/inspect-model"}
    assert (out / "profile.png").stat().st_size > 1000
    assert "lm-model" in result.output


def test_unreadable_inputs_are_dataset_errors(tmp_path):
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(DatasetError, match="cannot tell the format"):
        read_results([tmp_path / "x.txt"])
    (tmp_path / "samples_t_2026-01-01T00-00-00.jsonl").write_text(json.dumps({"doc_id": 0, "weird": 1}))
    with pytest.raises(DatasetError, match="--metric"):
        read_results([tmp_path / "samples_t_2026-01-01T00-00-00.jsonl"])
    with pytest.raises(DatasetError, match="does not exist"):
        read_results([tmp_path / "missing.json"])
    result = CliRunner().invoke(jagged_app, ["profile", str(tmp_path / "missing.json")])
    assert result.exit_code == 1 and "does not exist" in result.output
