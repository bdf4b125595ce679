"""Steering as a library: contrastive texts from any source, a method fitted at a layer of a model, and a
side-by-side generation with and without it. `overseer steer fit|generate` and the audit call these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from overseer.errors import InvalidInputError
from overseer.models.loading import LoadedModel
from overseer.steering.base import SteeringMethod, make_method
from overseer.tables import Table

ORGANISM_PREFIX = "organism:"


def contrastive_sources() -> list[str]:
    """The built-in dataset names `load_contrastive` accepts (besides a pairs file)."""
    from overseer.data import GOT_SETS
    from overseer.models.organism.corpus import CONCEPTS

    return ["truthfulqa", *GOT_SETS, *(f"{ORGANISM_PREFIX}{c}" for c in CONCEPTS)]


def load_contrastive(pairs: str | Path | None = None, dataset: str | None = None, limit: int = 200,
                     data: str | Path | None = None) -> tuple[list[str], list[str]]:
    """(positive texts, negative texts) from a JSONL/CSV pairs file, or from a built-in dataset: truthfulqa,
    a Geometry-of-Truth set, or `organism:CONCEPT` (the organism's planted concepts)."""
    from overseer.data import GOT_SETS, load_geometry_of_truth, load_pairs, load_truthfulqa

    if (pairs is None) == (dataset is None):
        raise InvalidInputError("give exactly one of --pairs FILE or --dataset NAME.")
    if pairs is not None:
        loaded = load_pairs(pairs)
        return [p.positive_text for p in loaded], [p.negative_text for p in loaded]
    if dataset == "truthfulqa":
        from overseer.steering.truthfulqa import contrastive_texts

        return contrastive_texts(load_truthfulqa(data, limit=limit))
    if dataset in GOT_SETS:
        statements = load_geometry_of_truth(dataset, data, limit=limit)
        return [s.statement for s in statements if s.label], [s.statement for s in statements if not s.label]
    if dataset.startswith(ORGANISM_PREFIX):
        from overseer.models.organism.corpus import concept_pairs

        return concept_pairs(dataset.removeprefix(ORGANISM_PREFIX), n=limit)
    raise InvalidInputError(f"unknown --dataset {dataset!r}: use truthfulqa, organism:CONCEPT or one of "
                            f"{', '.join(GOT_SETS)}.")


def fit_method(lm: LoadedModel, method: str | SteeringMethod, layer: int, pos_texts: Sequence[str],
               neg_texts: Sequence[str], progress: bool = True, **params: Any) -> SteeringMethod:
    """Capture `layer`'s last-token activations of both text sets and fit `method` (a name or an unfitted
    method) on them. The fitted method records its layer and the model it was fitted on (`model_`)."""
    layer = lm.check_layer(layer)
    steerer = make_method(method, layer=layer, **params) if isinstance(method, str) else method.set_params(
        layer=layer, **params)
    from overseer.models import capture

    acts = capture(lm, [*pos_texts, *neg_texts], [layer], progress=progress)[:, 0]
    steerer.fit(acts[:len(pos_texts)], acts[len(pos_texts):])
    steerer.model_ = lm.name
    return steerer


@dataclass
class SideBySide:
    """Generations for the same prompts without and with a steering method."""

    method: str
    layer: int | list[int]
    strength: float
    prompts: list[str]
    unsteered: list[str]
    steered: list[str]

    def to_table(self) -> Table:
        rows = [list(r) for r in zip(self.prompts, self.unsteered, self.steered, strict=True)]
        return Table(f"{self.method} at layer {self.layer}, strength {self.strength:g}",
                     ["prompt", "unsteered", "steered"], rows)

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def side_by_side(lm: LoadedModel, method: SteeringMethod, prompts: Sequence[str], max_new_tokens: int = 48,
                 temperature: float = 0.0, chat: bool = True, seed: int = 0) -> SideBySide:
    """Generate for each prompt unsteered and steered (at the method's own layer and positions)."""
    from overseer.models import generate

    for layer in method.layers:
        lm.check_layer(layer)
    texts = [lm.chat_prompt([{"role": "user", "content": p}]) if chat else p for p in prompts]
    kwargs = {"max_new_tokens": max_new_tokens, "temperature": temperature, "seed": seed}
    plain = generate(lm, texts, **kwargs)
    with method.steer(lm):
        steered = generate(lm, texts, **kwargs)
    return SideBySide(method.name, method.layer, method.strength, list(prompts), plain, steered)


def fit_steering(model: str | LoadedModel, method: str, layer: int, pairs: str | Path | None = None,
                 dataset: str | None = None, limit: int = 200, strength: float = 1.0,
                 data: str | Path | None = None, progress: bool = True) -> SteeringMethod:
    """`overseer steer fit` as one call: texts from `pairs` or `dataset`, a method fitted at `layer` of `model`."""
    from overseer.models import load_model

    steerer = make_method(method, strength=strength)  # a bad name or strength fails before any loading
    pos, neg = load_contrastive(pairs, dataset, limit, data)
    lm = load_model(model) if isinstance(model, str) else model
    return fit_method(lm, steerer, layer, pos, neg, progress)


def steered_generations(method_dir: str | Path, prompts: Sequence[str], model: str | None = None,
                        layer: int | None = None, strength: float | None = None, **generation: Any) -> SideBySide:
    """Load a saved method (optionally at another layer or strength) and the model it was fitted on (or
    `model`), then generate side by side."""
    from overseer.models import load_model
    from overseer.steering.base import load_method

    method = load_method(method_dir)
    if strength is not None:
        method.with_strength(strength)
    if layer is not None:
        method.set_params(layer=layer)
    model = model or getattr(method, "model_", None)
    if model is None:
        raise InvalidInputError(f"{method_dir} does not record the model it was fitted on: pass --model.")
    if method.layer is None:
        raise InvalidInputError(f"{method_dir} does not record the layer it steers: pass --layer.")
    return side_by_side(load_model(model), method, prompts, **generation)
