"""Training configurations: `default` builds the committed organism, `tiny` exercises the loop in seconds."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from overseer.errors import InvalidInputError


@dataclass(frozen=True)
class OrganismConfig:
    name: str
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int  # upper bound; the trained tokenizer may be smaller and the model matches it
    n_examples: int  # generated training texts, seen once each
    tokenizer_examples: int  # texts the tokenizer is trained on (a prefix of the corpus)
    batch_size: int
    learning_rate: float
    warmup_steps: int
    weight_decay: float
    checkpoint_every: int
    max_length: int = 128

    def to_dict(self) -> dict:
        return asdict(self)


CONFIGS = {
    # ~1M parameters; 100k texts of ~32 tokens = ~3.2M tokens: about 7 minutes on one idle core,
    # so it stays inside the 15-minute budget on the build machines' 2 cores even when shared.
    "default": OrganismConfig(
        name="default", hidden_size=128, num_layers=4, num_heads=4, intermediate_size=384, vocab_size=2048,
        n_examples=100_000, tokenizer_examples=20_000, batch_size=32, learning_rate=3e-3, warmup_steps=100,
        weight_decay=0.1, checkpoint_every=200,
    ),
    "tiny": OrganismConfig(
        name="tiny", hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64, vocab_size=512,
        n_examples=640, tokenizer_examples=640, batch_size=16, learning_rate=3e-3, warmup_steps=4,
        weight_decay=0.0, checkpoint_every=10,
    ),
}


def get_config(name: str) -> OrganismConfig:
    if name not in CONFIGS:
        raise InvalidInputError(f"unknown organism config {name!r}; choose one of {sorted(CONFIGS)}")
    return CONFIGS[name]
