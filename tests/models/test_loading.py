import pytest
import torch
from transformers import LlamaConfig

from overseer.errors import InvalidInputError, ModelNotFoundError, UnsupportedArchitectureError
from overseer.models import LoadedModel, load_model, register_family, supported_model_types
from overseer.models.architectures import family_for

from helpers.tiny_models import tiny_hf_model, tiny_model, tiny_tokenizer


@pytest.fixture(scope="module")
def saved_tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-llama")
    model = tiny_hf_model("llama")
    model.save_pretrained(path)
    tiny_tokenizer().save_pretrained(path)
    return path, model


def test_local_directory_loads_as_the_saved_model(saved_tiny):
    path, original = saved_tiny
    lm = load_model(str(path))
    assert (lm.family.name, lm.n_layers, lm.d_model) == ("llama", 3, 32)
    ids = torch.tensor([[5, 6, 7]])
    with torch.no_grad():
        torch.testing.assert_close(lm.model(ids).logits, original(ids).logits)


def test_info_reports_family_layers_width_and_parameters(saved_tiny):
    info = load_model(saved_tiny[0]).info()
    assert info.family == "llama" and info.n_layers == 3 and info.d_model == 32
    assert info.n_params == sum(p.numel() for p in saved_tiny[1].parameters())
    assert info.dtype == "float32" and info.device == "cpu"


def test_dtype_is_honoured(saved_tiny):
    assert load_model(saved_tiny[0], dtype="bfloat16").dtype == torch.bfloat16


@pytest.mark.parametrize("name", ["definitely-not-a-model-xyz", "nobody/nothing-here"])
def test_unknown_model_name_is_a_clear_error(name):
    with pytest.raises(ModelNotFoundError, match="not an embedded model"):
        load_model(name)


def test_empty_name_and_bad_paths_are_clear_errors(tmp_path):
    with pytest.raises(ModelNotFoundError, match="empty model name"):
        load_model("  ")
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        load_model(str(tmp_path))
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(ModelNotFoundError, match="is a file"):
        load_model(str(tmp_path / "weights.bin"))


def test_bad_dtype_and_device_are_clear_errors(saved_tiny):
    with pytest.raises(InvalidInputError, match="unknown dtype"):
        load_model(saved_tiny[0], dtype="float7")
    with pytest.raises(InvalidInputError, match="device"):
        load_model(saved_tiny[0], device="tpu-please")


def test_unknown_architecture_names_the_supported_families_and_the_fix():
    with pytest.raises(UnsupportedArchitectureError) as err:
        family_for("my_new_arch")
    message = str(err.value)
    for family in ("gpt2", "gpt-neox", "llama", "gemma", "qwen2", "mistral"):
        assert family in message
    assert "register_family" in message


def test_a_registered_family_becomes_loadable():
    config = LlamaConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=32)
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM(config)
    model.config.model_type = "my_llama_fork"
    with pytest.raises(UnsupportedArchitectureError):
        LoadedModel(model, tiny_tokenizer(), "fork", "config")
    register_family("my-fork", ["my_llama_fork"], blocks="model.layers", final_norm="model.norm")
    assert "my_llama_fork" in supported_model_types()
    assert LoadedModel(model, tiny_tokenizer(), "fork", "config").n_layers == 2


def test_chat_prompt_falls_back_to_plain_roles_without_a_template():
    lm = tiny_model("llama")
    text = lm.chat_prompt([{"role": "user", "content": "Hi"}])
    assert text == "User: Hi\nAssistant:"


def test_unsupported_architecture_fails_before_weights_are_loaded(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert", "architectures": ["BertModel"]}')
    with pytest.raises(UnsupportedArchitectureError, match="bert"):
        load_model(str(tmp_path))


def test_directory_without_tokenizer_is_a_clear_error(tmp_path):
    tiny_hf_model("llama").save_pretrained(tmp_path)
    with pytest.raises(ModelNotFoundError, match="tokenizer or weights"):
        load_model(str(tmp_path))
