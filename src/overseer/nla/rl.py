"""GRPO on the AV: reward = -reconstruction error from the AR, KL to the SFT AV, a token cap; the AR keeps
regressing on the AV's samples (trained jointly)."""

from __future__ import annotations

import copy
import random

import torch

from overseer.errors import InvalidInputError
from overseer.fitted import check_is_fitted
from overseer.models.progress import progress_bar
from overseer.nla.core import NLA, check_activations


def grpo(nla: NLA, activations: torch.Tensor, steps: int = 20, batch: int = 4, group: int = 4, beta: float = 0.05,
         av_lr: float = 1e-5, ar_lr: float = 1e-4, temperature: float = 1.0, max_new_tokens: int | None = None,
         seed: int = 0, progress: bool = True) -> dict[str, list[float]]:
    """Fine-tune a fitted NLA in place; returns per-step mean reward, KL and AR loss."""
    check_is_fitted(nla, "av_")
    acts = check_activations(activations, nla.base().d_model)
    if steps < 1 or batch < 1 or not 2 <= group <= 64:
        raise InvalidInputError("grpo needs steps >= 1, batch >= 1 and a group of 2..64 samples per activation.")
    torch.manual_seed(seed)
    rng = random.Random(seed)
    reference = copy.deepcopy(nla.av_).eval()
    for p in reference.parameters():
        p.requires_grad_(False)
    av_opt = torch.optim.AdamW(nla.av_.parameters(), lr=av_lr, weight_decay=0.0)
    ar_params = [*nla.ar_.parameters(), *nla.head_.parameters()]
    ar_opt = torch.optim.AdamW(ar_params, lr=ar_lr, weight_decay=0.0)
    history: dict[str, list[float]] = {"reward": [], "kl": [], "ar_loss": []}
    for _ in progress_bar(range(steps), "NLA GRPO", enabled=progress):
        rows = rng.sample(range(len(acts)), min(batch, len(acts)))
        grouped = acts[rows].repeat_interleave(group, 0)
        nla.av_.eval()
        samples = nla.sample(grouped, temperature=temperature, max_new_tokens=max_new_tokens)
        error = nla.reconstruction_error(nla.decode(samples), grouped, grad=True)
        ar_opt.zero_grad()
        error.mean().backward()
        ar_opt.step()
        reward = -error.detach().view(-1, group)
        advantage = ((reward - reward.mean(1, keepdim=True)) / (reward.std(1, keepdim=True) + 1e-6)).view(-1)
        nla.av_.train()
        logp, mask = nla.av_logprobs(grouped, samples)
        with torch.no_grad():
            ref_logp, _ = nla.av_logprobs(grouped, samples, model=reference)
        log_ratio = (ref_logp - logp) * mask
        kl = (torch.exp(log_ratio) - log_ratio - 1) * mask  # k3 estimator of KL(AV || SFT AV), per token
        tokens = mask.sum()
        loss = -(advantage.to(logp.device).unsqueeze(1) * logp).sum() / tokens + beta * kl.sum() / tokens
        av_opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(nla.av_.parameters(), 1.0)
        av_opt.step()
        history["reward"].append(float(reward.mean()))
        history["kl"].append(float(kl.sum().detach() / tokens))
        history["ar_loss"].append(float(error.mean().detach()))
    nla.av_.eval()
    return history
