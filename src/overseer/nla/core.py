"""Natural-language autoencoder: an activation verbalizer (AV) and an activation reconstructor (AR).

- AV: a copy of the target model. The layer-K activation, L2-rescaled to a fixed injection scale, replaces
  the embedding of one marker token in a fixed prompt (`inputs_embeds`); the AV then writes an explanation.
- AR: a copy of the target run only up to block K (the forward pass stops there) plus a Linear(d, d) head
  initialised to the identity, reading the last token of a fixed template around the explanation.
- Both are scored on L2-normalised activations; FVE = 1 - MSE / MSE(predicting the mean).
"""

from __future__ import annotations

import copy
import inspect
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from overseer.errors import InvalidInputError
from overseer.fitted import Fitted, _decode_value, _read_json, check_is_fitted
from overseer.models.capture import check_texts
from overseer.models.loading import LoadedModel
from overseer.models.progress import progress_bar
from overseer.registry import Registry

AV_PREFIX = "Explain the hidden state"
AV_SUFFIX = ": It is about"
AR_TEMPLATE = "Summary:{explanation} The state is"

NLA_CLASSES: Registry[type] = Registry("natural-language autoencoder")


def default_layer(n_layers: int) -> int:
    """About two thirds of the depth (block index), as in the NLA paper."""
    return max(0, round(2 * n_layers / 3) - 1)


def check_activations(acts: torch.Tensor, d_model: int, n: int | None = None) -> torch.Tensor:
    if not isinstance(acts, torch.Tensor) or acts.dim() != 2 or acts.shape[1] != d_model:
        shape = tuple(getattr(acts, "shape", ()))
        raise InvalidInputError(f"activations must be a tensor [n, {d_model}], got shape {shape}: capture them "
                                "with lm.capture(texts, [layer])[:, 0].")
    if n is not None and acts.shape[0] != n:
        raise InvalidInputError(f"{acts.shape[0]} activations for {n} explanations: pass one per explanation.")
    if not torch.isfinite(acts).all():
        raise InvalidInputError("activations contain NaN or inf: drop those rows (or fix the model's dtype) first.")
    return acts.float()


def fve(pred: torch.Tensor, true: torch.Tensor, mean: torch.Tensor | None = None) -> float:
    """Fraction of variance explained on L2-normalised vectors: 1 - MSE(pred) / MSE(mean predictor)."""
    p, t = F.normalize(pred.float(), dim=-1), F.normalize(true.float(), dim=-1)
    mu = t.mean(0) if mean is None else mean
    baseline = ((t - mu) ** 2).sum(-1).mean()
    if float(baseline) == 0.0:
        raise InvalidInputError("all activations are identical: FVE needs at least two different vectors.")
    return float(1 - ((p - t) ** 2).sum(-1).mean() / baseline)


def _cache_kwargs(model: nn.Module, result: Any) -> dict[str, Any]:
    """transformers 5.x renamed `past_key_values` to `cache`; pass whichever this model takes."""
    past = getattr(result, "cache", None)
    if past is None:
        past = result.past_key_values
    return {"cache": past} if "cache" in inspect.signature(model.forward).parameters else {"past_key_values": past}


def ar_text(explanation: str) -> str:
    """The AR's input: an explanation inside `AR_TEMPLATE` (an empty one leaves no stray space)."""
    return AR_TEMPLATE.format(explanation=(" " + explanation.strip()) if explanation.strip() else "")


def _check_explanations(explanations: Sequence[str]) -> list[str]:
    if isinstance(explanations, str):
        raise InvalidInputError("explanations must be a list of strings, not one string: wrap it as [text].")
    out = list(explanations)
    if not out or not all(isinstance(e, str) for e in out):
        raise InvalidInputError("explanations must be a non-empty list of strings (an empty string is allowed).")
    return out


@NLA_CLASSES.register("nla")
class NLA(Fitted):
    """AV + AR for one model and layer. `fit(activations, explanations)` runs the SFT warm start of both."""

    family = "nla"
    name = "nla"
    what = "natural-language autoencoder"
    fit_hint = "NLA(...).fit(activations, explanations)"
    registry = NLA_CLASSES

    def __init__(self, model: str = "organism", layer: int | None = None, injection_scale: float | None = None,
                 device: str = "cpu", dtype: str = "float32", sft_steps: int = 300, batch_size: int = 32,
                 learning_rate: float = 5e-4, max_new_tokens: int = 40, seed: int = 0) -> None:
        self.model = model
        self.layer = layer
        self.injection_scale = injection_scale
        self.device = device
        self.dtype = dtype
        self.sft_steps = sft_steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_new_tokens = max_new_tokens
        self.seed = seed
        self._lm = None

    # ---- the base model ----
    def base(self):
        """The target model (loaded once, frozen): activations come from it."""
        if self._lm is None:
            from overseer.models import load_model

            self._lm = load_model(self.model, device=self.device, dtype=self.dtype)
            for p in self._lm.model.parameters():
                p.requires_grad_(False)
        return self._lm

    def capture(self, texts: Sequence[str]) -> torch.Tensor:
        """Layer-K activations at the last token of each text: `[n, d_model]` (usable before `fit`)."""
        texts = check_texts(texts)
        return self.base().capture(texts, [self.resolved_layer()], "last", progress=False)[:, 0]

    def resolved_layer(self) -> int:
        if getattr(self, "layer_", None) is not None:
            return self.layer_
        lm = self.base()
        return lm.check_layer(self.layer if self.layer is not None else default_layer(lm.n_layers))

    def _init_modules(self) -> None:
        lm = self.base()
        self.layer_ = self.resolved_layer()
        if self.injection_scale is not None and not self.injection_scale > 0:
            raise InvalidInputError(f"injection_scale must be positive, got {self.injection_scale}.")
        emb = lm.model.get_input_embeddings().weight
        self.injection_scale_ = float(self.injection_scale or emb.float().norm(dim=-1).mean())
        self.av_ = copy.deepcopy(lm.model).train()
        self.ar_ = copy.deepcopy(lm.model)
        self._ar_lm = LoadedModel(self.ar_, lm.tokenizer, name=f"{lm.name}-ar", source=lm.source)
        for p in [*self.av_.parameters(), *self.ar_.parameters()]:
            p.requires_grad_(True)
        self.head_ = nn.Linear(lm.d_model, lm.d_model).to(lm.device, lm.dtype)
        with torch.no_grad():
            self.head_.weight.copy_(torch.eye(lm.d_model))
            self.head_.bias.zero_()

    # ---- AV ----
    def _av_prompt(self, acts: torch.Tensor) -> torch.Tensor:
        """Prompt embeddings `[n, p, d]` with the rescaled activation at the marker position."""
        lm = self.base()
        tok = lm.tokenizer
        prefix = tok(AV_PREFIX, add_special_tokens=True)["input_ids"]
        suffix = tok(AV_SUFFIX, add_special_tokens=False)["input_ids"]
        ids = torch.tensor(prefix + [tok.pad_token_id] + suffix, device=lm.device)
        embeds = self.av_.get_input_embeddings()(ids).unsqueeze(0).repeat(len(acts), 1, 1)
        injected = F.normalize(acts.to(lm.device, torch.float32), dim=-1) * self.injection_scale_
        embeds = embeds.clone()
        embeds[:, len(prefix)] = injected.to(embeds.dtype)
        return embeds

    def _explanation_ids(self, explanations: list[str]) -> list[list[int]]:
        tok = self.base().tokenizer
        return [tok(" " + e.strip(), add_special_tokens=False)["input_ids"][: self.max_new_tokens] + [tok.eos_token_id]
                for e in explanations]

    def av_logprobs(self, acts: torch.Tensor, token_ids: list[list[int]], model: nn.Module | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-token log-probabilities `[n, t]` of `token_ids` after the AV prompt, and their mask."""
        model = model or self.av_
        prompt = self._av_prompt(acts) if model is self.av_ else self._prompt_for(model, acts)
        n, p, _ = prompt.shape
        t = max(len(ids) for ids in token_ids)
        pad = self.base().tokenizer.pad_token_id
        ids = torch.full((n, t), pad, dtype=torch.long, device=prompt.device)
        mask = torch.zeros((n, t), dtype=torch.bool, device=prompt.device)
        for i, row in enumerate(token_ids):
            ids[i, : len(row)] = torch.tensor(row, device=prompt.device)
            mask[i, : len(row)] = True
        embeds = torch.cat([prompt, model.get_input_embeddings()(ids)], dim=1)
        attn = torch.cat([torch.ones((n, p), dtype=torch.long, device=prompt.device), mask.long()], dim=1)
        logits = model(inputs_embeds=embeds, attention_mask=attn, use_cache=False).logits[:, p - 1: -1].float()
        logp = torch.log_softmax(logits, -1).gather(-1, ids.unsqueeze(-1)).squeeze(-1)
        return logp * mask, mask

    def _prompt_for(self, model: nn.Module, acts: torch.Tensor) -> torch.Tensor:
        saved, self.av_ = self.av_, model
        try:
            return self._av_prompt(acts)
        finally:
            self.av_ = saved

    @torch.no_grad()
    def sample(self, acts: torch.Tensor, temperature: float = 0.0, max_new_tokens: int | None = None,
               batch_size: int = 64) -> list[list[int]]:
        """AV explanations as token ids (greedy when temperature is 0), cut at end-of-sequence."""
        out: list[list[int]] = []
        for start in range(0, len(acts), batch_size):
            out.extend(self._sample_batch(acts[start: start + batch_size], temperature,
                                          max_new_tokens or self.max_new_tokens))
        return out

    def _sample_batch(self, acts: torch.Tensor, temperature: float, cap: int) -> list[list[int]]:
        eos = self.base().tokenizer.eos_token_id
        embeds = self._av_prompt(acts)
        n = len(acts)
        attn = torch.ones((n, embeds.shape[1]), dtype=torch.long, device=embeds.device)
        result = self.av_(inputs_embeds=embeds, attention_mask=attn, use_cache=True)
        tokens: list[list[int]] = [[] for _ in range(n)]
        done = torch.zeros(n, dtype=torch.bool, device=embeds.device)
        for _ in range(cap + 1):
            logits = result.logits[:, -1].float()
            if temperature > 0:
                nxt = torch.multinomial(torch.softmax(logits / temperature, -1), 1).squeeze(-1)
            else:
                nxt = logits.argmax(-1)
            for i in range(n):
                if not done[i]:
                    tokens[i].append(int(nxt[i]))
            done |= nxt == eos
            if bool(done.all()):
                break
            attn = torch.cat([attn, torch.ones((n, 1), dtype=torch.long, device=attn.device)], dim=1)
            result = self.av_(input_ids=nxt.unsqueeze(-1), attention_mask=attn, use_cache=True,
                              **_cache_kwargs(self.av_, result))
        return [row[: row.index(eos) + 1] if eos in row else row[:cap] + [eos] for row in tokens]

    def decode(self, token_ids: list[list[int]]) -> list[str]:
        tok = self.base().tokenizer
        return [tok.decode(ids, skip_special_tokens=True).strip() for ids in token_ids]

    def explain(self, acts: torch.Tensor) -> list[str]:
        """The AV's greedy explanation of each activation."""
        check_is_fitted(self, "av_")
        acts = check_activations(acts, self.base().d_model)
        self.av_.eval()
        return self.decode(self.sample(acts))

    def explain_texts(self, texts: Sequence[str]) -> list[str]:
        return self.explain(self.capture(texts))

    # ---- AR ----
    def ar_predict(self, explanations: Sequence[str], grad: bool = False, batch_size: int = 64) -> torch.Tensor:
        """Reconstructed activations `[n, d]` (raw head output; compare after L2 normalisation)."""
        check_is_fitted(self, "ar_")
        explanations = _check_explanations(explanations)
        outs = []
        with torch.set_grad_enabled(grad):
            for start in range(0, len(explanations), batch_size):
                outs.append(self._ar_batch(explanations[start: start + batch_size]))
        return torch.cat(outs)

    def _ar_batch(self, explanations: list[str]) -> torch.Tensor:
        lm = self.base()
        texts = [ar_text(e) for e in explanations]
        enc = lm.encode(texts)
        mask = enc["attention_mask"]
        kwargs = {"input_ids": enc["input_ids"], "attention_mask": mask, "use_cache": False}
        pos = lm.position_ids(mask)
        if pos is not None:
            kwargs["position_ids"] = pos
        hidden = self._ar_lm.grab_layers(kwargs, [self.layer_])[self.layer_]
        rank = mask.long().cumsum(-1)
        index = (mask.bool() & (rank == mask.sum(-1, keepdim=True))).long().argmax(-1)
        last = hidden[torch.arange(hidden.shape[0], device=hidden.device), index]
        return self.head_(last.to(self.head_.weight.dtype)).float().cpu()

    def reconstruction_error(self, explanations: Sequence[str], acts: torch.Tensor, grad: bool = False
                             ) -> torch.Tensor:
        """Per-row squared error between L2-normalised reconstruction and truth."""
        pred = self.ar_predict(explanations, grad=grad)
        return ((F.normalize(pred, dim=-1) - F.normalize(acts.float().cpu(), dim=-1)) ** 2).sum(-1)

    def score(self, explanations: Sequence[str], acts: torch.Tensor) -> float:
        """FVE of the AR's reconstructions from `explanations`."""
        acts = check_activations(acts, self.base().d_model, len(_check_explanations(explanations)))
        return fve(self.ar_predict(explanations), acts)

    # ---- SFT ----
    def fit(self, activations: torch.Tensor, explanations: Sequence[str], progress: bool = True) -> Self:
        """SFT warm start: the AV learns to write `explanations[i]` from `activations[i]`, the AR the reverse."""
        explanations = _check_explanations(explanations)
        if not all(e.strip() for e in explanations):
            raise InvalidInputError("an SFT explanation is empty: give every activation a non-empty explanation.")
        lm = self.base()
        acts = check_activations(activations, lm.d_model, len(explanations))
        if self.sft_steps < 1 or self.batch_size < 1:
            raise InvalidInputError("sft_steps and batch_size must be >= 1.")
        torch.manual_seed(self.seed)
        rng = random.Random(self.seed)
        self._init_modules()
        ids = self._explanation_ids(explanations)
        params = [*self.av_.parameters(), *self.ar_.parameters(), *self.head_.parameters()]
        opt = torch.optim.AdamW(params, lr=self.learning_rate, weight_decay=0.0)
        self.history_ = {"av_loss": [], "ar_loss": []}
        for _ in progress_bar(range(self.sft_steps), "NLA SFT", enabled=progress):
            batch = rng.sample(range(len(acts)), min(self.batch_size, len(acts)))
            logp, mask = self.av_logprobs(acts[batch], [ids[i] for i in batch])
            av_loss = -(logp.sum() / mask.sum())
            ar_loss = self.reconstruction_error([explanations[i] for i in batch], acts[batch], grad=True).mean()
            opt.zero_grad()
            (av_loss + ar_loss).backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            self.history_["av_loss"].append(float(av_loss.detach()))
            self.history_["ar_loss"].append(float(ar_loss.detach()))
        self.av_.eval()
        return self

    # ---- persistence ----
    def _get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"layer_": self.layer_, "injection_scale_": self.injection_scale_,
                                 "history_": getattr(self, "history_", {})}
        for prefix, module in (("av_", self.av_), ("ar_", self.ar_), ("head_", self.head_)):
            for key, value in module.state_dict().items():
                state[f"{prefix}.{key}"] = value.detach().clone()  # tied weights share storage: clone
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        self.layer_ = int(state["layer_"])
        self.injection_scale_ = float(state["injection_scale_"])
        self.history_ = state.get("history_", {})
        layer, scale = self.layer, self.injection_scale
        self.layer, self.injection_scale = self.layer_, self.injection_scale_
        self._init_modules()
        self.layer, self.injection_scale = layer, scale
        for prefix, module in (("av_", self.av_), ("ar_", self.ar_), ("head_", self.head_)):
            sub = {k[len(prefix) + 1:]: v for k, v in state.items() if k.startswith(prefix + ".")}
            module.load_state_dict(sub, strict=True)
        self.av_.eval()
        self.ar_.eval()

    @classmethod
    def load(cls, directory: str | Path, device: str | None = None) -> Self:
        """Read a directory written by `save` (the base model is loaded by its saved name or path)."""
        directory = Path(directory)
        json_path, tensors_path = directory / "nla.json", directory / "nla.safetensors"
        if not json_path.is_file() or not tensors_path.is_file():
            raise InvalidInputError(f"{directory} is not a saved NLA: it needs nla.json and nla.safetensors "
                                    "(written by NLA.save(dir) or `overseer nla train`).")
        config = _read_json(json_path)
        params = dict(config.get("params", {}))
        if device is not None:
            params["device"] = device
        obj = cls(**params)
        tensors = load_file(str(tensors_path), device="cpu")
        obj._set_state({k: _decode_value(v, tensors, directory) for k, v in config.get("state", {}).items()})
        return obj
