"""Model layer: loading any HF causal LM and reading/writing its residual stream."""

from overseer.models.architectures import register_family, supported_model_types
from overseer.models.capture import capture
from overseer.models.embedded import EMBEDDED_MODELS
from overseer.models.generation import generate
from overseer.models.intervene import intervene
from overseer.models.loading import LoadedModel, ModelInfo, load_model
from overseer.models.scoring import ContinuationScore, continuation_logprobs

__all__ = [
    "EMBEDDED_MODELS",
    "ContinuationScore",
    "LoadedModel",
    "ModelInfo",
    "capture",
    "continuation_logprobs",
    "generate",
    "intervene",
    "load_model",
    "register_family",
    "supported_model_types",
]
