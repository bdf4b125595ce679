"""Train the organism: generate the corpus, train the tokenizer, train a small Llama, save HF files.

Deterministic for a seed (model init, corpus, batch order); resumable from the checkpoint it
writes every `checkpoint_every` steps into `<out>/.checkpoint/`, removed when training ends.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase

from overseer.errors import InvalidInputError
from overseer.models.organism.config import OrganismConfig
from overseer.models.organism.corpus import generate_corpus
from overseer.models.organism.tokenizer import train_tokenizer

CHECKPOINT_DIR = ".checkpoint"
TRAINING_LOG = "training.json"


@dataclass
class TrainResult:
    out_dir: Path
    seed: int
    config: str
    steps: int
    tokens: int  # non-padding tokens trained on in this run and earlier runs it resumed
    wall_seconds: float  # this run only
    tokens_per_second: float  # this run only
    first_loss: float
    final_loss: float
    resumed_from_step: int

    def to_dict(self) -> dict:
        d = self.__dict__.copy()
        d["out_dir"] = str(self.out_dir)
        return d


def model_config(cfg: OrganismConfig, tokenizer: PreTrainedTokenizerBase) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_heads,
        intermediate_size=cfg.intermediate_size,
        max_position_embeddings=cfg.max_length,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        attention_dropout=0.0,
    )


def _batches(lengths: list[int], batch_size: int, seed: int) -> list[list[int]]:
    """Shuffled batches of similar-length examples, so little compute goes to padding."""
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 32
    batches = []
    for start in range(0, len(order), chunk):
        group = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches += [group[i : i + batch_size] for i in range(0, len(group), batch_size)]
    rng.shuffle(batches)
    return batches


def _collate(ids: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, x in enumerate(ids):
        input_ids[row, : len(x)] = torch.tensor(x)
        mask[row, : len(x)] = 1
    labels = input_ids.masked_fill(mask == 0, -100)
    return input_ids, mask, labels


def _lr(step: int, total: int, cfg: OrganismConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.learning_rate * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
    return cfg.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def _optimizer(model: torch.nn.Module, cfg: OrganismConfig) -> torch.optim.AdamW:
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.learning_rate, betas=(0.9, 0.95))


def _save_checkpoint(path: Path, state: dict) -> None:
    path.mkdir(parents=True, exist_ok=True)
    tmp = path / "state.pt.tmp"
    torch.save(state, tmp)
    tmp.replace(path / "state.pt")  # atomic: an interrupt never leaves a half-written checkpoint


def _portable_tokenizer_class(out_dir: Path) -> None:
    # transformers 5 records its own "TokenizersBackend" class, which 4.x cannot load; the
    # fast-tokenizer class loads the same files in both.
    path = out_dir / "tokenizer_config.json"
    config = json.loads(path.read_text())
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    path.write_text(json.dumps(config, indent=2) + "\n")


def train(
    out_dir: Path,
    cfg: OrganismConfig,
    seed: int = 0,
    resume: bool = True,
    stop_after_steps: int | None = None,
    show_progress: bool = True,
    threads: int | None = None,
) -> TrainResult:
    """Train the organism into `out_dir` (HF model + tokenizer + training.json).

    `threads` sets torch's CPU threads (on a shared machine 1 is often faster than 2).
    `stop_after_steps` ends this run early leaving a checkpoint, as an interrupt would
    (used by tests of resuming). With `resume`, a matching checkpoint in `out_dir` is
    continued; one from another seed or config is an error.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt_dir = out_dir / CHECKPOINT_DIR
    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)

    corpus = [e.text for e in generate_corpus(seed, cfg.n_examples)]
    tok_path = ckpt_dir / "tokenizer"
    if resume and (tok_path / "tokenizer.json").is_file():
        tokenizer = AutoTokenizer.from_pretrained(tok_path)
    else:
        tokenizer = train_tokenizer(corpus[: cfg.tokenizer_examples], cfg.vocab_size)
        tokenizer.save_pretrained(tok_path)
    encoded = tokenizer(corpus, add_special_tokens=False, truncation=True, max_length=cfg.max_length)["input_ids"]
    batches = _batches([len(x) for x in encoded], cfg.batch_size, seed)
    total = len(batches)

    model = LlamaForCausalLM(model_config(cfg, tokenizer))
    optimizer = _optimizer(model, cfg)
    start, tokens, losses = 0, 0, []
    state_file = ckpt_dir / "state.pt"
    if resume and state_file.is_file():
        state = torch.load(state_file, weights_only=False)
        if state["seed"] != seed or state["config"] != cfg.to_dict():
            raise InvalidInputError(
                f"{state_file} is from another run (seed {state['seed']}, config {state['config']['name']}); "
                "delete it or train without resuming"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start, tokens, losses = state["step"], state["tokens"], state["losses"]
    resumed_from = start

    model.train()
    t0 = time.perf_counter()
    run_tokens = 0
    end = total if stop_after_steps is None else min(total, start + stop_after_steps)
    columns = (TextColumn("[bold]organism[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("loss {task.fields[loss]:.3f}  {task.fields[tps]:,.0f} tok/s"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not show_progress) as progress:
        task = progress.add_task(f"{cfg.name} seed {seed}", total=total, completed=start, loss=float("nan"), tps=0.0)
        for step in range(start, end):
            input_ids, mask, labels = _collate([encoded[i] for i in batches[step]], tokenizer.pad_token_id)
            for group in optimizer.param_groups:
                group["lr"] = _lr(step, total, cfg)
            loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            n = int(mask.sum())
            tokens += n
            run_tokens += n
            losses.append(loss.item())
            tps = run_tokens / max(1e-9, time.perf_counter() - t0)
            progress.update(task, advance=1, loss=losses[-1], tps=tps)
            if (step + 1) % cfg.checkpoint_every == 0 and not progress.console.is_terminal:
                progress.console.print(f"step {step + 1}/{total} loss {losses[-1]:.3f} {tps:,.0f} tok/s")
            if (step + 1) % cfg.checkpoint_every == 0 and step + 1 < total:
                _save_checkpoint(ckpt_dir, {"seed": seed, "config": cfg.to_dict(), "step": step + 1,
                                            "tokens": tokens, "losses": losses,
                                            "model": model.state_dict(), "optimizer": optimizer.state_dict()})
    wall = time.perf_counter() - t0
    if end < total:
        _save_checkpoint(ckpt_dir, {"seed": seed, "config": cfg.to_dict(), "step": end, "tokens": tokens,
                                    "losses": losses, "model": model.state_dict(),
                                    "optimizer": optimizer.state_dict()})
    result = TrainResult(out_dir, seed, cfg.name, end, tokens, wall, run_tokens / max(wall, 1e-9),
                         losses[0] if losses else float("nan"), losses[-1] if losses else float("nan"), resumed_from)
    if end == total:
        model.eval()
        model.save_pretrained(out_dir, safe_serialization=True)
        tokenizer.save_pretrained(out_dir)
        _portable_tokenizer_class(out_dir)
        smoothed = [sum(losses[i : i + 50]) / len(losses[i : i + 50]) for i in range(0, len(losses), 50)]
        log = {**result.to_dict(), "config_values": cfg.to_dict(), "total_steps": total,
               "n_parameters": sum(p.numel() for p in model.parameters()),
               "torch_threads": torch.get_num_threads(), "loss_every_50_steps": smoothed}
        (out_dir / TRAINING_LOG).write_text(json.dumps(log, indent=2))
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    return result
