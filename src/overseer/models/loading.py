"""`load_model`: any Hugging Face causal LM, by Hub id, local directory or embedded name."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from overseer.errors import InvalidInputError, LayerOutOfRangeError, ModelNotFoundError
from overseer.models.architectures import ArchitectureFamily, family_for, resolve_path
from overseer.models.embedded import EMBEDDED_MODELS, embedded_dir

_DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}


@dataclass(frozen=True)
class ModelInfo:
    name: str
    source: str
    family: str
    architecture: str
    n_layers: int
    d_model: int
    n_params: int
    vocab_size: int
    dtype: str
    device: str
    has_chat_template: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class LoadedModel:
    """A causal LM with its tokenizer and a map of its residual stream.

    Methods read and write the residual stream through `capture` and `intervene`
    (layer i = output of decoder block i); they never reach into the model's modules.
    """

    backend = "hf"

    def __init__(self, model: nn.Module, tokenizer: Any, name: str, source: str) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        self.source = source
        self.family: ArchitectureFamily = family_for(model.config.model_type)
        self._blocks = resolve_path(model, self.family.blocks)
        self.n_layers = len(self._blocks)
        self.d_model = int(model.config.hidden_size)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._accepts_position_ids = "position_ids" in inspect.signature(model.forward).parameters

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    def block(self, layer: int) -> nn.Module:
        """The decoder block whose output is the residual stream at `layer`."""
        return self._blocks[self.check_layer(layer)]

    @property
    def final_norm(self) -> nn.Module:
        return resolve_path(self.model, self.family.final_norm)

    def check_layer(self, layer: int) -> int:
        """Normalise a layer index (negative counts from the end) or raise a clear error."""
        if isinstance(layer, bool) or not isinstance(layer, int):
            raise LayerOutOfRangeError(f"layer must be an integer, got {layer!r}.")
        if not -self.n_layers <= layer < self.n_layers:
            raise LayerOutOfRangeError(
                f"layer {layer} is out of range for {self.name}, which has {self.n_layers} layers: "
                f"use 0..{self.n_layers - 1} (or -1..-{self.n_layers} from the end)."
            )
        return layer % self.n_layers

    def check_layers(self, layers: int | list[int] | tuple[int, ...]) -> list[int]:
        layers = [layers] if isinstance(layers, int) else list(layers)
        if not layers:
            raise InvalidInputError("no layers given: pass at least one layer index.")
        return [self.check_layer(layer) for layer in layers]

    def position_ids(self, attention_mask: torch.Tensor) -> torch.Tensor | None:
        """Positions that ignore padding, so left and right padding give the same vectors."""
        if not self._accepts_position_ids:
            return None
        return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)

    def encode(self, texts: list[str], max_length: int | None = None) -> dict[str, torch.Tensor]:
        """Tokenise a batch with padding, on the model's device.

        Special tokens (BOS) are added unless the texts already start with the BOS token, as
        chat-formatted prompts do, so they are never doubled.
        """
        bos = self.tokenizer.bos_token
        add_special = not (bos and all(text.startswith(bos) for text in texts))
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=add_special,
                             truncation=max_length is not None, max_length=max_length)
        return {key: value.to(self.device) for key, value in enc.items()}

    def chat_prompt(self, messages: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        """Render chat messages with the model's template (plain 'role: content' lines if it has none)."""
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=add_generation_prompt
            )
        lines = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
        if add_generation_prompt:
            lines.append("Assistant:")
        return "\n".join(lines)

    def info(self) -> ModelInfo:
        return ModelInfo(
            name=self.name,
            source=self.source,
            family=self.family.name,
            architecture=type(self.model).__name__,
            n_layers=self.n_layers,
            d_model=self.d_model,
            n_params=sum(p.numel() for p in self.model.parameters()),
            vocab_size=int(self.model.config.vocab_size),
            dtype=str(self.dtype).removeprefix("torch."),
            device=str(self.device),
            has_chat_template=bool(getattr(self.tokenizer, "chat_template", None)),
        )

    # Backend primitives: every verb (capture, intervene, generate, scoring) runs the model through
    # these four, so another backend (nnsight, possibly remote) only has to provide them.
    def forward_logits(self, **kwargs: Any) -> torch.Tensor:
        """Logits of one forward pass over already-encoded inputs (active interventions applied)."""
        return self.model(**kwargs).logits

    def generate_ids(self, **kwargs: Any) -> torch.Tensor:
        """`model.generate` over already-encoded inputs (active interventions applied)."""
        return self.model.generate(**kwargs)

    def rewriting(self, fns: dict[int, Any], positions: Any):
        """Context in which every forward pass rewrites the residual stream (see `intervene`)."""
        from overseer.models.intervene import hook_rewrites

        return hook_rewrites(self, fns, positions)

    def grab_layers(self, kwargs: dict[str, Any], layers: list[int]) -> dict[int, torch.Tensor]:
        """Residual stream at `layers` for one encoded batch, stopping after the deepest one."""
        from overseer.models.capture import grab_with_hooks

        return grab_with_hooks(self, kwargs, layers)

    # The verbs live in their own modules; these are thin conveniences.
    def capture(self, texts, layers, positions="last", batch_size=16, progress=None, max_length=None):
        from overseer.models.capture import capture

        return capture(self, texts, layers, positions, batch_size, progress, max_length)

    def intervene(self, layers, fn, positions="last"):
        from overseer.models.intervene import intervene

        return intervene(self, layers, fn, positions)

    def generate(self, prompts, **kwargs):
        from overseer.models.generation import generate

        return generate(self, prompts, **kwargs)

    def __repr__(self) -> str:
        return (f"LoadedModel({self.name!r}, family={self.family.name}, n_layers={self.n_layers}, "
                f"d_model={self.d_model})")


def _parse_dtype(dtype: str | torch.dtype | None) -> torch.dtype | str | None:
    if dtype is None or isinstance(dtype, torch.dtype) or dtype == "auto":
        return dtype
    try:
        return _DTYPES[dtype]
    except KeyError:
        raise InvalidInputError(
            f"unknown dtype '{dtype}': use one of {', '.join(sorted(set(_DTYPES)))} or 'auto'."
        ) from None


def _resolve_device(device: str | torch.device | None) -> torch.device:
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise InvalidInputError(f"unknown device '{device}': use 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto'.") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError("device 'cuda' was asked for but torch sees no CUDA GPU: use device='cpu'.")
    return resolved


BACKENDS = ("hf", "nnsight")


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Turn transformers' own progress bars off for the block (and back on after, if they were on)."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def load_model(
    name_or_path: str | Path,
    device: str | torch.device | None = "cpu",
    dtype: str | torch.dtype | None = None,
    backend: str = "hf",
    remote: bool = False,
    device_map: str | dict[str, Any] | None = None,
) -> LoadedModel:
    """Load a causal LM: an embedded name (`smollm2`, `organism`), a local directory, or a Hub id.

    backend="hf" runs the model here with forward hooks; backend="nnsight" runs every verb through
    nnsight traces, locally or, with remote=True, on NDIF (NDIF_API_KEY from the environment).
    device_map ("auto", "balanced", or an explicit {module: device} map) shards one model over
    several GPUs through accelerate; `device` is then ignored.
    """
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    if backend not in BACKENDS:
        raise InvalidInputError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}.")
    if remote and backend != "nnsight":
        raise InvalidInputError("remote=True runs on NDIF through nnsight: pass backend='nnsight' too.")
    name = str(name_or_path)
    if not name.strip():
        raise ModelNotFoundError("empty model name: pass an embedded name (smollm2, organism), "
                                 "a local directory, or a Hugging Face Hub id.")
    torch_device = _resolve_device(device)
    # float32 on CPU unless asked otherwise: half precision is slow and lossy there, and
    # transformers' own default ("auto") would follow whatever dtype the checkpoint was saved in.
    torch_dtype = _parse_dtype(dtype) or (torch.float32 if torch_device.type == "cpu" else "auto")
    if name in EMBEDDED_MODELS:
        path, local = embedded_dir(name), True
    elif Path(name).expanduser().is_dir():
        path, local = Path(name).expanduser(), True
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"{path} is a directory but has no config.json: point at a directory "
                                     "written by save_pretrained (config.json + weights + tokenizer).")
    elif Path(name).expanduser().exists():
        raise ModelNotFoundError(f"{name} is a file; pass the directory that holds config.json and the weights.")
    else:
        path, local = name, False
    try:
        # The config comes first: it is small, and an unsupported architecture should fail
        # before gigabytes of weights are fetched.
        config = AutoConfig.from_pretrained(path, local_files_only=local)
    except (OSError, ValueError) as exc:
        embedded = ", ".join(EMBEDDED_MODELS)
        raise ModelNotFoundError(
            f"could not load model '{name}': it is not an embedded model ({embedded}), not a local "
            "directory, and the Hugging Face Hub could not provide it "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]}). Check the spelling, pass a local "
            "directory, or (for gated models) set HF_TOKEN on a machine with network access."
        ) from exc
    family_for(config.model_type)
    if remote:
        from overseer.models.nnsight_backend import load_remote

        return load_remote(name, str(path))
    extra: dict[str, Any] = {} if device_map is None else {"device_map": device_map}
    try:
        with quiet_transformers():  # no "Loading weights" bar: overseer's own progress lines are the output
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local)
            model = AutoModelForCausalLM.from_pretrained(path, local_files_only=local, dtype=torch_dtype, **extra)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(
            f"model '{name}' has a config but its tokenizer or weights could not be loaded "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:300]}). A local directory needs the files "
            "that save_pretrained writes for both the model and the tokenizer."
        ) from exc
    if device_map is None:
        model = model.to(torch_device)
    if backend == "nnsight":
        from overseer.models.nnsight_backend import NNsightModel

        return NNsightModel(model, tokenizer, name=name, source=str(path))
    return LoadedModel(model, tokenizer, name=name, source=str(path))
