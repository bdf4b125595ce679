"""SmolLM2 (or any HF model): an AR trained on texts the package ships, scored against a Patchscopes baseline.

There is no ground truth of what a real model's activation means, so the AR is trained on two kinds of
explanation of each training text's layer-K activation (one AR on both): (a) the input text itself and
(b) the training-free Patchscopes description of the activation. FVE is then reported on held-out texts for
an empty explanation, the input text and the Patchscopes description, each with a bootstrap CI over texts.

Texts: the TruthfulQA questions and best answers shipped with the package (`overseer.data`), split by question
so that no held-out text shares a question with a training text.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from overseer.errors import InvalidInputError
from overseer.nla.evaluate import fve_ci
from overseer.nla.patchscopes import Patchscope
from overseer.nla.reconstructor import Reconstructor
from overseer.stats import Estimate
from overseer.tables import Table


def truthfulqa_texts(n_train: int, n_test: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Question and best-answer texts from the packaged TruthfulQA, disjoint by question."""
    from overseer.data.truthfulqa import load_truthfulqa

    items = load_truthfulqa()  # the packaged copy unless a data directory holds the same file
    if n_train < 2 or n_test < 2 or n_train + n_test > 2 * len(items):
        raise InvalidInputError(f"n_train and n_test must be >= 2 and sum to at most {2 * len(items)} "
                                "(two texts per TruthfulQA question).")
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    texts = [t for i in order for t in (items[i].question, items[i].best_answer)]
    # Each question contributes its two texts to the same side of the split.
    n_train += n_train % 2
    return texts[:n_train], texts[n_train: n_train + n_test]


# (prompt, target layer); None: the source layer K (the paper's l -> l patching). Layer 3 for the description
# prompt was picked on 24 training texts as the target layer whose descriptions varied most (SmolLM2's l -> l
# descriptions are nearly constant).
DEFAULT_SCOPES: tuple[tuple[str, int | None], ...] = (("identity", None), ("description", 3))


@dataclass
class ModelNLAReport:
    """FVE of an AR on a real model's activations, for several sources of explanation."""

    model: str
    layer: int
    fve: dict[str, Estimate]
    examples: list[dict[str, str]]
    scopes: list[str]
    n_train: int
    n_test: int
    distinct_descriptions: dict[str, float]
    timings: dict[str, float] = field(default_factory=dict)
    ar_resumed: bool = True

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in vars(self).items() if k != "fve"}
        out["fve"] = {k: v.to_dict() for k, v in self.fve.items()}
        return out

    def to_table(self) -> Table:
        rows = [[name, e.value, e.low, e.high, e.n] for name, e in self.fve.items()]
        return Table(f"{self.model} AR fraction of variance explained (layer {self.layer}, held-out texts, "
                     f"n={self.n_test})", ["explanation", "FVE", "low", "high", "n"], rows)

    def examples_table(self) -> Table:
        return Table(f"Patchscopes descriptions of held-out {self.model} activations", ["input", *self.scopes],
                     [[e["input"], *(e[s] for s in self.scopes)] for e in self.examples])


def evaluate_model_ar(model: str = "smollm2", n_train: int = 240, n_test: int = 120, steps: int = 150,
                      train_blocks: int = 4, scopes: tuple[tuple[str, int | None], ...] = DEFAULT_SCOPES,
                      max_new_tokens: int = 6, seed: int = 0, device: str = "cpu", dtype: str = "float32",
                      progress: bool = True) -> tuple[ModelNLAReport, Reconstructor]:
    """Train one AR on (activation, input text) and (activation, Patchscopes description) pairs; score it."""
    t0 = time.time()
    ar = Reconstructor(model, train_blocks=train_blocks, steps=steps, seed=seed, device=device, dtype=dtype)
    lm = ar.base()
    layer = ar.resolved_layer()
    train, test = truthfulqa_texts(n_train, n_test, seed)
    acts = ar.capture(train + test)
    train_acts, test_acts = acts[: len(train)], acts[len(train):]
    timings = {"capture_s": time.time() - t0}
    t1 = time.time()
    described: dict[str, list[str]] = {}
    for prompt, target in scopes:
        scope = Patchscope(lm, layer=layer, target_layer=target, prompt=prompt, max_new_tokens=max_new_tokens)
        described[f"Patchscopes {prompt} ({layer}->{scope.target_layer})"] = scope.describe(acts)
    timings["patchscopes_s"] = time.time() - t1
    t2 = time.time()
    pairs = train + [d for texts in described.values() for d in texts[: len(train)]]
    ar.fit(train_acts.repeat(1 + len(described), 1), pairs, progress=progress)
    timings["ar_train_s"] = time.time() - t2
    t3 = time.time()
    candidates = {"empty explanation": [""] * len(test), "input text itself": test,
                  **{name: texts[len(train):] for name, texts in described.items()}}
    table = {"mean predictor": Estimate(0.0, 0.0, 0.0, len(test))}
    for name, expl in candidates.items():
        table[name] = fve_ci(ar.predict(expl), test_acts)
    timings["score_s"] = time.time() - t3
    timings["total_s"] = time.time() - t0
    examples = [{"input": t, **{name: texts[len(train) + i] for name, texts in described.items()}}
                for i, t in enumerate(test[:8])]
    distinct = {name: len(set(texts)) / len(texts) for name, texts in described.items()}
    report = ModelNLAReport(model, layer, table, examples, list(described), len(train), len(test), distinct,
                            timings, bool(ar.history_["resumed"]))
    return report, ar
