"""One end-to-end check on the real model: ODESteer fitted on TruthfulQA pairs steers SmolLM2."""

from __future__ import annotations

import pytest
import torch

from overseer.data import load_truthfulqa
from overseer.models import capture, intervene, load_model
from overseer.steering import ODESteer
from overseer.steering.truthfulqa import contrastive_texts


@pytest.mark.slow
def test_odesteer_hook_raises_the_barrier_on_held_out_smollm2_activations():
    lm = load_model("smollm2")
    items = load_truthfulqa(limit=16)
    pos, neg = contrastive_texts(items[:12])
    acts = capture(lm, pos + neg, [10])[:, 0]
    method = ODESteer(n_components=1000).fit(acts[:len(pos)], acts[len(pos):])
    _, held_neg = contrastive_texts(items[12:])
    held = capture(lm, held_neg, [10])[:, 0]
    distance = float((acts[:len(pos)].mean(0) - acts[len(pos):].mean(0)).norm())
    steered = method.apply(held, distance)
    assert (method.barrier(steered) > method.barrier(held)).float().mean() > 0.9
    # Inside the model: steering layer 10 changes what layer 12 sees for the same texts.
    with intervene(lm, 10, method.with_strength(distance).apply):
        after = capture(lm, held_neg[:4], [12])
    assert not torch.allclose(after, capture(lm, held_neg[:4], [12]))
