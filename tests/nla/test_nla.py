import math

import pytest
import torch
from tests.helpers.tiny_models import tiny_hf_model, tiny_tokenizer

from overseer.errors import LayerOutOfRangeError, NotFittedError, OverseerError
from overseer.nla import NLA, fve
from overseer.nla.organism_data import mentions, organism_items

COLORS = ["red", "blue", "green", "black", "white", "pink", "gray", "gold"]
THINGS = ["cat", "dog", "car", "tree", "house", "boat", "bird", "fish"]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-llama")
    tiny_hf_model("llama").save_pretrained(path)
    tiny_tokenizer().save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def fitted(tiny_dir):
    texts = [f"The {t} is {c}." for t in THINGS for c in COLORS]
    nla = NLA(tiny_dir, sft_steps=40, batch_size=16, learning_rate=3e-3, max_new_tokens=8)
    acts = nla.capture(texts)
    nla.fit(acts, texts, progress=False)
    return nla, texts, acts


@pytest.mark.slow
def test_reconstruction_from_true_explanation_beats_empty_one(fitted):
    nla, texts, acts = fitted
    assert nla.score(texts, acts) > nla.score([""] * len(texts), acts) + 0.2


@pytest.mark.slow
def test_empty_explanation_cannot_beat_the_mean_predictor(fitted):
    nla, texts, acts = fitted
    assert nla.score([""] * len(texts), acts) <= 1e-6


def test_fve_of_mean_predictor_is_zero_and_of_truth_is_one():
    acts = torch.randn(50, 16)
    mean = torch.nn.functional.normalize(acts, dim=-1).mean(0, keepdim=True).expand(50, -1)
    # The mean of unit vectors is not a unit vector; fve normalises predictions, so compare raw MSE ratio.
    assert math.isclose(fve(acts, acts), 1.0, abs_tol=1e-6)
    unit = torch.nn.functional.normalize(acts, dim=-1)
    mu = unit.mean(0)
    assert math.isclose(1 - float(((mean - unit) ** 2).sum(-1).mean() / ((unit - mu) ** 2).sum(-1).mean()), 0.0,
                        abs_tol=1e-6)
    assert fve(-acts, acts) < 0


@pytest.mark.slow
def test_saved_nla_reloads_to_the_same_outputs(fitted, tmp_path):
    nla, texts, acts = fitted
    nla.save(tmp_path / "nla")
    again = NLA.load(tmp_path / "nla")
    assert again.layer_ == nla.layer_ and again.get_params() == nla.get_params()
    assert torch.allclose(again.ar_predict(texts[:8]), nla.ar_predict(texts[:8]), atol=1e-5)
    assert again.explain(acts[:4]) == nla.explain(acts[:4])


def test_layer_out_of_range_is_an_overseer_error(tiny_dir):
    with pytest.raises(LayerOutOfRangeError, match="out of range"):
        NLA(tiny_dir, layer=7, sft_steps=1).fit(torch.zeros(2, 32), ["a", "b"], progress=False)


@pytest.mark.slow
def test_bad_inputs_are_overseer_errors(fitted, tiny_dir):
    nla, texts, acts = fitted
    with pytest.raises(OverseerError, match="NaN"):
        nla.explain(torch.full((2, 32), float("nan")))
    with pytest.raises(OverseerError, match="non-empty"):
        nla.explain_texts([])
    with pytest.raises(OverseerError, match="one per explanation"):
        nla.score(texts[:3], acts[:2])
    with pytest.raises(OverseerError, match=r"\[n, 32\]"):
        nla.explain(torch.zeros(3, 5))
    with pytest.raises(OverseerError, match="empty"):
        NLA(tiny_dir, sft_steps=1).fit(acts[:2], ["a", ""], progress=False)
    with pytest.raises(NotFittedError):
        NLA(tiny_dir).explain(acts[:2])
    with pytest.raises(OverseerError, match="not a saved NLA"):
        NLA.load(tiny_dir)


def test_attribute_matching_is_whole_word():
    assert mentions("the chat is unmonitored.", "unmonitored")
    assert not mentions("the chat is unmonitored.", "monitored")
    assert mentions("My secret word is Marigold.", "marigold")


def test_organism_items_carry_their_planted_attributes():
    items = organism_items(14, seed=0)
    assert {i.kind for i in items} >= {"biography", "review", "observed", "secret_use"}
    for item in items:
        assert all(mentions(item.explanation, v) for v in item.attributes.values()), item


@pytest.mark.slow
def test_grpo_updates_the_av_and_keeps_the_kl_finite(fitted, tmp_path):
    from overseer.nla.rl import grpo

    nla, texts, acts = fitted
    nla = NLA.load(nla.save(tmp_path / "copy"))
    before = [p.detach().clone() for p in nla.av_.parameters()]
    history = grpo(nla, acts, steps=2, batch=2, group=3, max_new_tokens=4, av_lr=1e-3, progress=False)
    assert len(history["reward"]) == 2 and all(math.isfinite(k) for k in history["kl"])
    assert any(not torch.equal(a, b) for a, b in zip(before, nla.av_.parameters(), strict=True))
    with pytest.raises(OverseerError, match="group"):
        grpo(nla, acts, steps=1, group=1, progress=False)

