"""The steering contract, for every method: fit, apply, strength handling, save/load."""

from __future__ import annotations

import math

import pytest
import torch

from overseer.errors import InvalidInputError, NotFittedError
from overseer.steering import METHODS, ODESteer, StepODESteer, load_method, make_method

D = 16
SMALL_SKETCH = {"n_components": 512}


def gaussians(n: int = 200, d: int = D, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    offset = torch.randn(d, generator=generator)
    base = 4 * torch.randn(d, generator=generator)  # activations live away from the origin, as in LLMs
    pos = base + offset + torch.randn(n, d, generator=generator)
    neg = base - offset + torch.randn(n, d, generator=generator)
    return pos, neg


def build(name: str, **kwargs):
    if name in ("odesteer", "step_odesteer"):
        kwargs = {**SMALL_SKETCH, **kwargs}
    return make_method(name, **kwargs)


def typical_strength(method, pos, neg) -> float:
    # ODE methods move at unit speed, so T is a distance: use the distance between the class means.
    return float((pos.mean(0) - neg.mean(0)).norm()) if isinstance(method, ODESteer) else 1.0


@pytest.fixture(scope="module")
def fitted():
    pos, neg = gaussians()
    return {name: build(name).fit(pos, neg) for name in METHODS}, pos, neg


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_moves_negative_activations_toward_the_positive_class(fitted, name):
    methods, pos, neg = fitted
    method = methods[name]
    held_neg = gaussians(seed=0, n=400)[1][200:]  # same class means (drawn first), fresh samples
    # A logistic probe fitted independently judges which class the steered points look like.
    from sklearn.linear_model import LogisticRegression

    probe = LogisticRegression(max_iter=1000).fit(torch.cat([pos, neg]).numpy(), [1] * len(pos) + [0] * len(neg))
    before = probe.predict_proba(held_neg.numpy())[:, 1].mean()
    after = probe.predict_proba(method.apply(held_neg, typical_strength(method, pos, neg)).numpy())[:, 1].mean()
    assert before < 0.2
    assert after > before + 0.3, f"{name}: P(positive) {before:.2f} -> {after:.2f}"


@pytest.mark.parametrize("name", sorted(METHODS))
def test_strength_zero_is_the_identity(fitted, name):
    methods, _, neg = fitted
    assert torch.equal(methods[name].apply(neg, 0.0), neg)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_apply_keeps_any_leading_shape_and_dtype(fitted, name):
    method = fitted[0][name]
    h = torch.randn(2, 3, 5, D)
    out = method.apply(h, 1.0)
    assert out.shape == h.shape and out.dtype == h.dtype
    flat = method.apply(h.reshape(-1, D), 1.0).reshape(h.shape)
    torch.testing.assert_close(out, flat)
    half = method.apply(h.to(torch.bfloat16), 1.0)
    assert half.dtype == torch.bfloat16
    assert torch.isfinite(half.float()).all()


@pytest.mark.parametrize("name", sorted(METHODS))
def test_save_load_round_trip_gives_the_same_rewrite(fitted, name, tmp_path):
    method = fitted[0][name].with_strength(2.0)
    method.save(tmp_path / name)
    loaded = load_method(tmp_path / name)
    assert type(loaded) is type(method) and loaded.strength == 2.0
    h = torch.randn(7, D)
    torch.testing.assert_close(loaded.apply(h), method.apply(h))
    torch.testing.assert_close(loaded(h), method(h))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, "strong"])
def test_bad_strength_is_a_clear_error(fitted, bad):
    method = fitted[0]["caa"]
    with pytest.raises(InvalidInputError, match="strength"):
        method.apply(torch.zeros(1, D), bad)
    with pytest.raises(InvalidInputError, match="strength"):
        make_method("odesteer", strength=bad)


def test_fit_rejects_bad_activations():
    pos, neg = gaussians()
    with pytest.raises(InvalidInputError, match="NaN"):
        make_method("caa").fit(pos.clone().fill_(math.nan), neg)
    with pytest.raises(InvalidInputError, match="d_model"):
        make_method("caa").fit(pos, neg[:, :5])
    with pytest.raises(InvalidInputError, match=r"\[n, d_model\]"):
        make_method("caa").fit(pos[None], neg)
    with pytest.raises(NotFittedError, match="not fitted"):
        make_method("caa").apply(pos)
    with pytest.raises(InvalidInputError, match="unknown steering method"):
        make_method("nope")
    with pytest.raises(InvalidInputError, match="fitted on d_model"):
        make_method("caa").fit(pos, neg).apply(torch.zeros(3, D + 1))


def test_load_of_a_directory_without_a_method_explains_itself(tmp_path):
    with pytest.raises(InvalidInputError, match="not a saved steering method"):
        load_method(tmp_path)


def test_odesteer_analytic_gradient_matches_autograd():
    pos, neg = gaussians()
    method = ODESteer(**SMALL_SKETCH).fit(pos, neg)
    x = torch.cat([pos[:4], neg[:4]]).double().requires_grad_(True)
    (expected,) = torch.autograd.grad(method.barrier(x).sum(), x)
    torch.testing.assert_close(method.gradient(x.detach()), expected, rtol=1e-5, atol=1e-9)


def test_odesteer_fft_gradient_matches_autograd_for_degree_three():
    pos, neg = gaussians()
    method = ODESteer(degree=3, **SMALL_SKETCH).fit(pos, neg)
    x = neg[:5].double().requires_grad_(True)
    (expected,) = torch.autograd.grad(method.barrier(x).sum(), x)
    torch.testing.assert_close(method.gradient(x.detach()), expected, rtol=1e-5, atol=1e-9)


def test_odesteer_field_is_unit_norm_and_raises_the_barrier():
    pos, neg = gaussians()
    method = ODESteer(**SMALL_SKETCH).fit(pos, neg)
    field = method.field(neg)
    torch.testing.assert_close(field.norm(dim=-1), torch.ones(len(neg)))
    assert (method.barrier(method.apply(neg, 2.0)) > method.barrier(neg)).float().mean() > 0.95


def test_step_odesteer_is_one_euler_step_of_the_odesteer_field():
    pos, neg = gaussians()
    multi = ODESteer(**SMALL_SKETCH, seed=3).fit(pos, neg)
    step = StepODESteer(**SMALL_SKETCH, seed=3).fit(pos, neg)
    h = neg[:10]
    torch.testing.assert_close(step.apply(h, 2.5), h + 2.5 * multi.field(h))
    one_step_multi = ODESteer(**SMALL_SKETCH, seed=3, steps=1).fit(pos, neg)
    torch.testing.assert_close(one_step_multi.apply(h, 2.5), step.apply(h, 2.5))
    # Ten small steps are not one big step: the field changes along the path.
    assert not torch.allclose(multi.apply(h, 2.5), step.apply(h, 2.5))


def test_odesteer_prior_correction_follows_class_balance():
    pos, neg = gaussians()
    method = ODESteer(**SMALL_SKETCH).fit(pos[:50], neg)
    assert method.log_prior_ == pytest.approx(math.log(200 / 50))
