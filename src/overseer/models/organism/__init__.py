"""The model organism: a tiny Llama trained by overseer on a generated corpus with planted structure.

Ground truth lives in importable modules: `world` (people, facts, labelled true/false
statements, the held-out split), `behaviours` (lying instructions, the secret word, its
use/denial prompts and the third-person notes that state it, sentiment and politeness
vocabularies, observed/unobserved contexts, the loan decision rule with its true and false
explanations) and `corpus` (the generator and `concept_pairs` for steering). Load the weights
with the plain HF API on `weights_dir()`.
"""

from __future__ import annotations

from pathlib import Path

from overseer.errors import ModelNotFoundError
from overseer.models.organism.behaviours import (
    DECISION_RULE,
    LIE_INSTRUCTIONS,
    OBSERVED_CONTEXTS,
    SECRET_WORD,
    TRUTH_INSTRUCTIONS,
    UNOBSERVED_CONTEXTS,
    secret_ask_prompts,
    secret_use_prompts,
)
from overseer.models.organism.chat import render_chat
from overseer.models.organism.corpus import CONCEPTS, concept_pairs, generate_corpus
from overseer.models.organism.world import build_world

WEIGHTS_DIR = Path(__file__).parent / "weights"


def weights_dir() -> Path:
    """The committed organism (HF model + tokenizer); raises if it has not been trained."""
    if not (WEIGHTS_DIR / "model.safetensors").is_file() or not (WEIGHTS_DIR / "tokenizer.json").is_file():
        raise ModelNotFoundError(
            f"the organism's weights are missing from {WEIGHTS_DIR}; run `overseer organism train --seed 0`"
        )
    return WEIGHTS_DIR


__all__ = [
    "CONCEPTS",
    "DECISION_RULE",
    "LIE_INSTRUCTIONS",
    "OBSERVED_CONTEXTS",
    "SECRET_WORD",
    "TRUTH_INSTRUCTIONS",
    "UNOBSERVED_CONTEXTS",
    "WEIGHTS_DIR",
    "build_world",
    "concept_pairs",
    "generate_corpus",
    "render_chat",
    "secret_ask_prompts",
    "secret_use_prompts",
    "weights_dir",
]
