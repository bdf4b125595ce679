"""The nnsight backend gives the HF backend's numbers, on every family, and never leaves a hook behind."""

from __future__ import annotations

import os

import pytest
import torch

from overseer.errors import ConfigurationError, InvalidInputError
from overseer.models import load_model
from overseer.models.scoring import continuation_logprobs

from helpers.tiny_models import FAMILIES, hook_ids, tiny_hf_model, tiny_model, tiny_tokenizer

pytest.importorskip("nnsight")

from overseer.models.nnsight_backend import NNsightModel  # noqa: E402

TEXTS = ["Hello there", "The capital of France is Paris.", "Truth and lies"]


def both(family: str):
    hf = tiny_model(family)
    return hf, NNsightModel(hf.model, hf.tokenizer, hf.name, hf.source)


@pytest.mark.parametrize("family", FAMILIES)
def test_captures_equal_the_hf_backend(family):
    hf, nn = both(family)
    for positions in ("last", "mean", -2):
        a = hf.capture(TEXTS, [0, 2], positions=positions)
        b = nn.capture(TEXTS, [0, 2], positions=positions)
        assert (a - b).abs().max().item() <= 1e-5
    all_a, all_b = hf.capture(TEXTS, [1], positions="all"), nn.capture(TEXTS, [1], positions="all")
    assert all((x - y).abs().max().item() <= 1e-5 for x, y in zip(all_a, all_b, strict=True))


@pytest.mark.parametrize("family", FAMILIES)
def test_interventions_give_the_same_logits_captures_and_generations(family):
    hf, nn = both(family)
    direction = torch.randn(hf.d_model, generator=torch.Generator().manual_seed(1)) * 4
    before = hooks = hook_ids(hf)
    plain = continuation_logprobs(hf, TEXTS, [" yes"] * 3)
    results = []
    for lm in (hf, nn):
        with lm.intervene(1, lambda h: h + direction):
            captured = lm.capture(TEXTS, [2])
        with lm.intervene(1, lambda h: h + direction, positions="all"):
            scores = continuation_logprobs(lm, TEXTS, [" yes"] * 3)
        with lm.intervene(1, lambda h: h + 3 * direction):
            text = lm.generate(TEXTS, max_new_tokens=4)
        results.append((captured, [s.logprob for s in scores], text))
    (ca, sa, ta), (cb, sb, tb) = results
    assert (ca - cb).abs().max().item() <= 1e-5
    assert max(abs(x - y) for x, y in zip(sa, sb, strict=True)) <= 1e-4
    assert ta == tb
    assert max(abs(x - p.logprob) for x, p in zip(sa, plain, strict=True)) > 1e-3  # the rewrite did something
    assert hook_ids(hf) == before == hooks


def test_no_rewrite_survives_the_context_also_when_the_body_raises():
    hf, nn = both("llama")
    clean = nn.capture(TEXTS, [2])
    with pytest.raises(RuntimeError), nn.intervene(1, lambda h: h + 100.0):
        raise RuntimeError("boom")
    assert nn._rewrites == []
    assert (nn.capture(TEXTS, [2]) - clean).abs().max().item() == 0.0


def test_load_model_with_backend_nnsight_from_a_local_directory(tmp_path):
    tiny_hf_model("qwen2").save_pretrained(tmp_path)
    tiny_tokenizer().save_pretrained(tmp_path)
    hf = load_model(tmp_path)
    nn = load_model(tmp_path, backend="nnsight")
    assert nn.backend == "nnsight" and hf.backend == "hf"
    assert (hf.capture(TEXTS, [1]) - nn.capture(TEXTS, [1])).abs().max().item() <= 1e-5


def test_explicit_device_map_keeps_capture_and_intervene_correct(tmp_path):
    tiny_hf_model("llama").save_pretrained(tmp_path)
    tiny_tokenizer().save_pretrained(tmp_path)
    plain = load_model(tmp_path)
    device_map = {"model.embed_tokens": "cpu", "model.layers.0": "cpu", "model.layers.1": "cpu",
                  "model.layers.2": "cpu", "model.norm": "cpu", "model.rotary_emb": "cpu", "lm_head": "cpu"}
    sharded = load_model(tmp_path, device_map=device_map)
    assert (plain.capture(TEXTS, [0, 2]) - sharded.capture(TEXTS, [0, 2])).abs().max().item() <= 1e-5
    direction = torch.ones(plain.d_model)
    outs = []
    for lm in (plain, sharded):
        with lm.intervene(0, lambda h: h + direction):
            outs.append(lm.capture(TEXTS, [2]))
    assert (outs[0] - outs[1]).abs().max().item() <= 1e-5


def test_bad_backend_and_remote_without_nnsight_are_clear_errors():
    with pytest.raises(InvalidInputError, match="backend"):
        load_model("organism", backend="vllm")
    with pytest.raises(InvalidInputError, match="nnsight"):
        load_model("organism", remote=True)


def test_remote_without_an_ndif_key_says_which_variable_to_set(monkeypatch):
    monkeypatch.delenv("NDIF_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="NDIF_API_KEY"):
        load_model("organism", backend="nnsight", remote=True)


@pytest.mark.skipif(not os.environ.get("NDIF_API_KEY"), reason="remote NDIF run needs NDIF_API_KEY and network "
                    "access to NDIF; neither is available on overseer's build machines")
def test_remote_capture_on_ndif_matches_local_gpt2():  # pragma: no cover - needs network
    remote = load_model("openai-community/gpt2", backend="nnsight", remote=True)
    local = load_model("openai-community/gpt2")
    assert (remote.capture(TEXTS, [5]) - local.capture(TEXTS, [5])).abs().max().item() <= 1e-3
