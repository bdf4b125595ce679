"""Patchscopes (Ghandeharioun et al., 2024): a training-free verbalizer to compare the NLA's AV against.

The layer-K activation of a text's last token overwrites the residual stream of a placeholder token in a
fixed target prompt at a target layer (by default the same layer K: the paper's l -> l patching), and the
model itself continues the prompt greedily. The "identity" prompt asks it to repeat what the placeholder
is (few-shot token repetitions); the "description" prompt asks for a short description of an entity.

The target prompt's text before the placeholder is the same for every activation, so it is run once and
its KV cache reused for every batch.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from overseer.errors import InvalidInputError
from overseer.models.loading import LoadedModel
from overseer.nla.core import _cache_kwargs, check_activations, default_layer
from overseer.registry import Registry


@dataclass(frozen=True)
class TargetPrompt:
    """`prefix` + one `placeholder` token + `suffix`; the continuation is cut at `stop`."""

    prefix: str
    placeholder: str
    suffix: str
    stop: str


PROMPTS: Registry[TargetPrompt] = Registry("Patchscopes target prompt")
PROMPTS.add("identity", TargetPrompt("cat -> cat; 1135 -> 1135; hello -> hello;", " ?", " ->", ";"),
            help="few-shot token repetition: 'cat -> cat; 1135 -> 1135; hello -> hello; ? ->'")
PROMPTS.add("description", TargetPrompt("Syria: Country in the Middle East, Leonardo DiCaprio: American actor, "
                                        "Samsung: South Korean multinational corporation,", " x", ":", ","),
            help="few-shot entity descriptions ending in 'x:'")


class Patchscope:
    """Describe activations by patching them into a target prompt of the same model (training-free)."""

    def __init__(self, lm: LoadedModel, layer: int | None = None, target_layer: int | None = None,
                 prompt: str | TargetPrompt = "identity", max_new_tokens: int = 6, batch_size: int = 32) -> None:
        self.lm = lm
        self.layer = lm.check_layer(default_layer(lm.n_layers) if layer is None else layer)
        self.target_layer = self.layer if target_layer is None else lm.check_layer(target_layer)
        self.prompt = PROMPTS.get(prompt) if isinstance(prompt, str) else prompt
        if max_new_tokens < 1 or batch_size < 1:
            raise InvalidInputError("max_new_tokens and batch_size must be >= 1.")
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        tok = lm.tokenizer
        self._prefix = tok(self.prompt.prefix, add_special_tokens=True)["input_ids"]
        placeholder = tok(self.prompt.placeholder, add_special_tokens=False)["input_ids"]
        if len(placeholder) != 1:
            raise InvalidInputError(f"the placeholder {self.prompt.placeholder!r} is {len(placeholder)} tokens for "
                                    f"{lm.name}'s tokenizer; a Patchscopes placeholder must be one token.")
        self._rest = placeholder + tok(self.prompt.suffix, add_special_tokens=False)["input_ids"]

    def capture(self, texts: list[str]) -> torch.Tensor:
        """Source activations: layer-K residual stream at the last token of each text."""
        return self.lm.capture(texts, [self.layer], "last", progress=False)[:, 0]

    @torch.no_grad()
    def _prefix_cache(self, rows: int):
        ids = torch.tensor([self._prefix] * rows, device=self.lm.device)
        return self.lm.model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=True)

    @torch.no_grad()
    def _patched(self, acts: torch.Tensor, prefix) -> tuple[torch.Tensor, object]:
        """Logits after the patched placeholder and suffix, `[b, vocab]`, and the result (for its cache)."""
        b = len(acts)
        rest = torch.tensor([self._rest] * b, device=self.lm.device)
        attn = torch.ones((b, len(self._prefix) + len(self._rest)), dtype=torch.long, device=rest.device)
        where = torch.zeros_like(rest, dtype=torch.bool)
        where[:, 0] = True
        source = acts.to(self.lm.device)
        with self.lm.intervene(self.target_layer, lambda h: source.to(h.dtype), positions=where):
            result = self.lm.model(input_ids=rest, attention_mask=attn, use_cache=True,
                                   **copy.deepcopy(_cache_kwargs(self.lm.model, prefix)))
        return result.logits[:, -1].float(), result

    def _batches(self, acts: torch.Tensor):
        """Batches padded to one size (by repeating the last row) so one prefix cache serves all of them."""
        acts = check_activations(acts, self.lm.d_model)
        size = min(self.batch_size, len(acts))
        prefix = self._prefix_cache(size)
        for start in range(0, len(acts), size):
            chunk = acts[start: start + size]
            real = len(chunk)
            if real < size:
                chunk = torch.cat([chunk, chunk[-1:].expand(size - real, -1)])
            yield chunk, real, prefix

    def next_token_logits(self, acts: torch.Tensor) -> torch.Tensor:
        """The model's next-token logits at the end of the patched target prompt, `[n, vocab]`."""
        return torch.cat([self._patched(chunk, prefix)[0][:real].cpu() for chunk, real, prefix in self._batches(acts)])

    @torch.no_grad()
    def describe(self, acts: torch.Tensor) -> list[str]:
        """Greedy continuation of the patched prompt, cut at the prompt's separator (or a newline)."""
        out: list[str] = []
        tok = self.lm.tokenizer
        for chunk, real, prefix in self._batches(acts):
            logits, result = self._patched(chunk, prefix)
            tokens = [logits.argmax(-1)]
            attn = torch.ones((len(chunk), len(self._prefix) + len(self._rest)), dtype=torch.long,
                              device=logits.device)
            for _ in range(self.max_new_tokens - 1):
                attn = torch.cat([attn, torch.ones_like(attn[:, :1])], dim=1)
                result = self.lm.model(input_ids=tokens[-1].unsqueeze(-1).to(self.lm.device), attention_mask=attn,
                                       use_cache=True, **_cache_kwargs(self.lm.model, result))
                tokens.append(result.logits[:, -1].float().argmax(-1))
            ids = torch.stack(tokens, 1)[:real].tolist()
            out.extend(self._cut(tok.decode(row, skip_special_tokens=True)) for row in ids)
        return out

    def _cut(self, text: str) -> str:
        return text.split(self.prompt.stop)[0].split("\n")[0].strip()
