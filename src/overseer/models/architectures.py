"""Where each architecture family keeps its decoder blocks and final norm.

The residual stream "at layer i" is the output of decoder block i (so layer i
equals `hidden_states[i + 1]` of `output_hidden_states=True`, except for the last
layer, where Hugging Face applies the final norm before reporting it).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from overseer.errors import UnsupportedArchitectureError


@dataclass(frozen=True)
class ArchitectureFamily:
    name: str
    blocks: str  # dotted attribute path from the CausalLM to its ModuleList of decoder blocks
    final_norm: str  # dotted path to the norm applied after the last block


_FAMILIES: dict[str, ArchitectureFamily] = {}
_MODEL_TYPES: dict[str, str] = {}


def register_family(name: str, model_types: list[str], blocks: str, final_norm: str) -> None:
    """Teach overseer a new architecture: `model_types` are `config.model_type` values."""
    _FAMILIES[name] = ArchitectureFamily(name, blocks, final_norm)
    for model_type in model_types:
        _MODEL_TYPES[model_type] = name


register_family("gpt2", ["gpt2"], "transformer.h", "transformer.ln_f")
register_family("gpt-neox", ["gpt_neox"], "gpt_neox.layers", "gpt_neox.final_layer_norm")
register_family(
    "llama",
    ["llama", "mistral", "qwen2", "qwen3", "mixtral", "olmo", "olmo2", "phi3", "granite", "smollm3"],
    "model.layers",
    "model.norm",
)
register_family("gemma", ["gemma", "gemma2", "gemma3_text"], "model.layers", "model.norm")


def supported_model_types() -> list[str]:
    return sorted(_MODEL_TYPES)


def family_for(model_type: str) -> ArchitectureFamily:
    try:
        return _FAMILIES[_MODEL_TYPES[model_type]]
    except KeyError:
        families = ", ".join(f"{f.name} ({', '.join(t for t, n in _MODEL_TYPES.items() if n == f.name)})"
                             for f in _FAMILIES.values())
        raise UnsupportedArchitectureError(
            f"overseer does not know where the decoder blocks of model_type '{model_type}' live. "
            f"Supported families: {families}. To add one, call "
            "overseer.models.register_family(name, [model_type], blocks='path.to.layers', "
            "final_norm='path.to.norm') before load_model."
        ) from None


def resolve_path(root: nn.Module, dotted: str) -> nn.Module:
    module = root
    for part in dotted.split("."):
        module = getattr(module, part)
    return module
