"""MiMiC: the gated Gaussian optimal-transport map, on the shared steering contract."""

from __future__ import annotations

import pytest
import torch

from overseer.errors import InvalidInputError, NotFittedError
from overseer.steering import METHODS, load_method, make_method
from overseer.steering.mimic import MiMiC, gaussian_transport

D = 6


def gaussians(n: int = 4000, d: int = D, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes with different means *and* different, correlated covariances."""
    g = torch.Generator().manual_seed(seed)
    mix_pos, mix_neg = torch.randn(d, d, generator=g), torch.randn(d, d, generator=g)
    pos = 3 + torch.randn(d, generator=g) + torch.randn(n, d, generator=g) @ mix_pos
    neg = -3 + torch.randn(d, generator=g) + 0.5 * torch.randn(n, d, generator=g) @ mix_neg
    return pos.double(), neg.double()


def moments(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mu = x.mean(0)
    return mu, (x - mu).T @ (x - mu) / len(x)


def test_transported_negatives_have_the_positive_mean_and_covariance():
    pos, neg = gaussians()
    a, b = gaussian_transport(neg, pos, reg=0.0)
    mu_moved, cov_moved = moments(neg @ a + b)
    mu_pos, cov_pos = moments(pos)
    torch.testing.assert_close(mu_moved, mu_pos, atol=1e-9, rtol=0)
    torch.testing.assert_close(cov_moved, cov_pos, atol=1e-8, rtol=1e-8)
    # float32 method, ungated: the same up to float32 rounding
    pos, neg = pos[:800].float(), neg[:800].float()
    method = MiMiC(reg=0.0, gate=False).fit(pos, neg)
    mu_f, cov_f = moments(method.apply(neg).double())
    mu_pos, cov_pos = moments(pos.double())
    torch.testing.assert_close(mu_f, mu_pos, atol=2e-3, rtol=0)
    torch.testing.assert_close(cov_f, cov_pos, atol=2e-2, rtol=2e-3)


def test_regularised_map_sends_the_regularised_source_gaussian_onto_the_target_one():
    pos, neg = gaussians(n=50)  # n < many dims would be singular without reg; here reg shifts both covariances
    reg = 0.5
    a, _ = gaussian_transport(neg, pos, reg=reg)
    cov_s, cov_t = moments(neg)[1] + reg * torch.eye(D, dtype=torch.float64), moments(pos)[1] + reg * torch.eye(
        D, dtype=torch.float64)
    torch.testing.assert_close(a @ cov_s @ a, cov_t, atol=1e-9, rtol=1e-9)


def test_one_dimensional_map_is_the_ratio_of_standard_deviations():
    g = torch.Generator().manual_seed(1)
    neg, pos = 2 + 0.5 * torch.randn(3000, 1, generator=g), -1 + 3 * torch.randn(3000, 1, generator=g)
    a, b = gaussian_transport(neg, pos, reg=0.0)
    ratio = pos.double().std(unbiased=False) / neg.double().std(unbiased=False)
    assert a.item() == pytest.approx(ratio.item(), rel=1e-9)
    assert b.item() == pytest.approx(pos.double().mean().item() - ratio.item() * neg.double().mean().item(), rel=1e-9)


def test_the_map_is_the_cheapest_linear_map_with_the_right_output_moments():
    pos, neg = gaussians()
    a, b = gaussian_transport(neg, pos, reg=0.0)
    assert torch.allclose(a, a.T) and torch.linalg.eigvalsh(a).min() > 0  # gradient of a convex function
    cost = ((neg @ a + b - neg) ** 2).sum(1).mean()
    mu_s, cov_s = moments(neg)
    mu_t, cov_t = moments(pos)
    values, vectors = torch.linalg.eigh(cov_s)
    whiten = vectors @ torch.diag(values.rsqrt()) @ vectors.T
    values, vectors = torch.linalg.eigh(cov_t)
    colour = vectors @ torch.diag(values.sqrt()) @ vectors.T
    g = torch.Generator().manual_seed(2)
    for _ in range(5):  # any rotation between whitening and colouring also matches the moments, at a higher cost
        rotation, _ = torch.linalg.qr(torch.randn(D, D, generator=g, dtype=torch.float64))
        other = (neg - mu_s) @ whiten @ rotation @ colour + mu_t
        torch.testing.assert_close(moments(other)[1], cov_t, atol=1e-8, rtol=1e-8)
        assert ((other - neg) ** 2).sum(1).mean() > cost


def test_the_gate_moves_only_what_the_probe_calls_negative():
    pos, neg = (x.float() for x in gaussians(n=500))
    method = MiMiC().fit(pos, neg)
    assert method.gated(neg).float().mean() > 0.95 and method.gated(pos).float().mean() < 0.05
    kept = ~method.gated(pos)
    torch.testing.assert_close(method.apply(pos)[kept], pos[kept], atol=0, rtol=0)
    moved = method.apply(neg)
    assert (moved - neg).norm(dim=1).mean() > 5.0
    half = method.apply(neg, 0.5)  # strength interpolates toward the map
    gated = method.gated(neg)
    torch.testing.assert_close(half[gated], (neg[gated] + moved[gated]) / 2, atol=1e-4, rtol=1e-5)
    ungated = MiMiC(gate=False).fit(pos, neg)
    assert not torch.equal(ungated.apply(pos), pos)


def test_mimic_follows_the_contract(tmp_path):
    pos, neg = (x.float() for x in gaussians(n=300))
    assert METHODS.get("mimic") is MiMiC and isinstance(make_method("mimic", reg=0.1), MiMiC)
    with pytest.raises(NotFittedError, match="not fitted"):
        MiMiC().apply(pos)
    method = MiMiC(strength=0.7, layer=3, reg=0.05, gate=False)
    assert method.fit(pos, neg) is method
    assert {"transport_", "shift_", "gate_weight_", "gate_bias_"} <= set(method.fitted_attributes())
    method.save(tmp_path / "m")
    loaded = load_method(tmp_path / "m")
    assert type(loaded) is MiMiC and loaded.get_params() == method.get_params()
    h = torch.randn(2, 5, D)
    torch.testing.assert_close(loaded.apply(h), method.apply(h))
    with pytest.raises(InvalidInputError, match="reg must be"):
        MiMiC(reg=-1.0)
