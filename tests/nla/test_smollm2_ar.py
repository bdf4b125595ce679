import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tests.helpers.tiny_models import tiny_hf_model, tiny_tokenizer

from overseer.errors import OverseerError
from overseer.models import LoadedModel
from overseer.nla.patchscopes import Patchscope, TargetPrompt
from overseer.nla.reconstructor import Reconstructor
from overseer.nla.smollm2 import truthfulqa_texts

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["The capital of France is Paris.", "Hello there, how are you today?", "Steering vectors change a model.",
         "Truth and lies look different.", "The weather in spring is mild.", "A cat sat on the mat."]
TINY_PROMPT = TargetPrompt("Hello there", "?", " is", ";")


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory):
    dirs = {}
    for family in ("llama", "gpt2"):
        path = tmp_path_factory.mktemp(f"tiny-{family}")
        tiny_hf_model(family).save_pretrained(path)
        tiny_tokenizer().save_pretrained(path)
        dirs[family] = str(path)
    return dirs


@pytest.fixture(scope="module")
def smollm2():
    from overseer.models import load_model

    return load_model("smollm2")


def _tiny_lm(family: str = "llama") -> LoadedModel:
    return LoadedModel(tiny_hf_model(family).eval(), tiny_tokenizer(), f"tiny-{family}", "test")


def test_patchscopes_is_deterministic_and_depends_on_the_patched_activation():
    lm = _tiny_lm()
    scope = Patchscope(lm, layer=1, prompt=TINY_PROMPT, max_new_tokens=3)
    acts = scope.capture(TEXTS[:2])
    logits = scope.next_token_logits(acts)
    assert torch.equal(logits, scope.next_token_logits(acts))
    assert scope.describe(acts) == scope.describe(acts)
    assert (logits[0] - logits[1]).abs().max() > 1e-3, "two different activations gave the same logits"
    # The same activation patched twice in one batch gives the same logits (rows do not leak into each other).
    same = scope.next_token_logits(torch.stack([acts[0], acts[0], acts[1]]))
    assert torch.allclose(same[0], same[1], atol=1e-5) and torch.allclose(same[0], logits[0], atol=1e-4)


def test_patchscopes_rejects_a_placeholder_of_several_tokens():
    with pytest.raises(OverseerError, match="one token"):
        Patchscope(_tiny_lm(), layer=1, prompt=TargetPrompt("a", " placeholder words", ":", ","))


def test_reconstructor_resumes_from_cache_exactly_where_the_architecture_allows(tiny_dirs):
    acts = torch.randn(len(TEXTS), 32)
    llama = Reconstructor(tiny_dirs["llama"], train_blocks=1, steps=2, batch_size=4).fit(acts, TEXTS, progress=False)
    assert llama.history_["resumed"] is True
    base = llama.base()
    for i, block in enumerate(llama.top_):  # the trained blocks learn; the shared base model stays as it was
        trained, frozen = list(block.parameters()), list(base.block(llama._first() + i).parameters())
        assert any(not torch.equal(a, b) for a, b in zip(trained, frozen, strict=True))
        assert not any(p.requires_grad for p in frozen)
    # GPT-2 adds position embeddings to inputs_embeds, so resuming would be wrong: it must notice and fall back.
    gpt2 = Reconstructor(tiny_dirs["gpt2"], train_blocks=1, steps=2, batch_size=4).fit(acts, TEXTS, progress=False)
    assert gpt2.history_["resumed"] is False and len(gpt2.history_["loss"]) == 2


def test_saved_reconstructor_reloads_to_the_same_outputs(tiny_dirs, tmp_path):
    acts = torch.randn(len(TEXTS), 32)
    ar = Reconstructor(tiny_dirs["llama"], train_blocks=1, steps=3, batch_size=4).fit(acts, TEXTS, progress=False)
    again = Reconstructor.load(ar.save(tmp_path / "ar"))
    assert again.get_params() == ar.get_params()
    assert torch.allclose(again.predict(TEXTS), ar.predict(TEXTS), atol=1e-5)
    with pytest.raises(OverseerError, match="train_blocks"):
        Reconstructor(tiny_dirs["llama"], train_blocks=5, steps=1).fit(acts, TEXTS, progress=False)
    with pytest.raises(OverseerError, match="not a saved activation reconstructor"):
        Reconstructor.load(tmp_path)


def test_truthfulqa_split_keeps_a_question_and_its_answer_on_one_side():
    train, test = truthfulqa_texts(11, 10, seed=3)
    assert len(train) == 12 and len(test) == 10 and not set(train) & set(test)


@pytest.mark.slow
def test_smollm2_patchscopes_depends_on_the_activation(smollm2):
    scope = Patchscope(smollm2, max_new_tokens=2)
    acts = scope.capture(TEXTS[:2])
    logits = scope.next_token_logits(acts)
    assert torch.equal(logits, scope.next_token_logits(acts)) and scope.describe(acts) == scope.describe(acts)
    assert (logits[0] - logits[1]).abs().max() > 1e-2


@pytest.mark.slow
def test_smollm2_ar_reconstructs_better_from_the_text_than_from_nothing(smollm2):
    train, test = truthfulqa_texts(24, 8, seed=0)
    ar = Reconstructor("smollm2", train_blocks=1, steps=12, batch_size=16, learning_rate=1e-3).use_base(smollm2)
    acts = ar.capture(train + test)
    ar.fit(acts[:24], train, progress=False)
    assert ar.history_["resumed"] is True
    assert ar.score(train, acts[:24]) > ar.score([""] * 24, acts[:24]) + 0.05


@pytest.mark.slow
def test_smollm2_gpu_script_runs_end_to_end_on_cpu_at_tiny_size():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "nla_smollm2_gpu.py"), "--device", "cpu", "--tiny",
                           "--rl-steps", "1"], capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    for row in ("empty", "input text", "ground truth", "AV (SFT)", "AV (SFT+RL)", "done: layer 19"):
        assert row in done.stdout, done.stdout[-2000:]


@pytest.mark.slow
def test_full_audit_on_smollm2_adds_the_smollm2_rows_at_small_scale(tmp_path):
    from overseer.report.audit import AuditContext
    from overseer.report.nla_sections import _smollm2_part, smollm2_sizes

    assert smollm2_sizes(1.0) == {"n_train": 240, "n_test": 120, "steps": 150}
    ctx = AuditContext(model="smollm2", out_dir=tmp_path, quick=False, scale=0.01)
    text, tables, data = _smollm2_part(ctx)
    assert "input text" in text and "Patchscopes" in text and len(tables) == 2
    assert set(data["fve"]) >= {"empty explanation", "input text itself"} and data["n_test"] == 8
    assert (tmp_path / "nla-smollm2-ar" / "nla-ar.json").is_file()


def test_nla_ar_command_reports_a_multi_token_placeholder_as_a_one_line_error(tiny_dirs, tmp_path):
    from typer.testing import CliRunner

    from overseer.cli import app

    result = CliRunner().invoke(app, ["nla", "ar", "--model", tiny_dirs["llama"], "--n-train", "4", "--n-test", "2",
                                      "--steps", "1", "--train-blocks", "1", "--out", str(tmp_path / "run")])
    assert result.exit_code != 0 and "one token" in result.output and "Traceback" not in result.output
