from transformers import AutoTokenizer

from overseer.models.organism.chat import BOS, END, SPECIAL_TOKENS, chat, render_chat
from overseer.models.organism.corpus import generate_corpus
from overseer.models.organism.tokenizer import train_tokenizer


def test_tokenizer_round_trip_and_chat_template(tmp_path):
    texts = [e.text for e in generate_corpus(0, 800)]
    train_tokenizer(texts, 600).save_pretrained(tmp_path)
    tok = AutoTokenizer.from_pretrained(tmp_path)
    assert (tok.bos_token, tok.eos_token, tok.pad_token) == (BOS, END, "<|pad|>")
    for special in SPECIAL_TOKENS:  # never split into pieces
        assert len(tok(special, add_special_tokens=False)["input_ids"]) == 1
    for text in texts[:50]:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        decoded = tok.decode(ids, skip_special_tokens=True)
        plain = text
        for special in SPECIAL_TOKENS:
            plain = plain.replace(special, " ")
        assert decoded.split() == plain.split()
    messages = chat("Where does Alice live?", "Alice lives in Soria.", system="Tell the truth.")
    assert tok.apply_chat_template(messages, tokenize=False) == render_chat(messages)
    prompt = tok.apply_chat_template(messages[:2], add_generation_prompt=True, tokenize=False)
    assert prompt == render_chat(messages[:2], add_generation_prompt=True)
    assert prompt.endswith("<|assistant|>")


def test_tokenizer_is_deterministic():
    texts = [e.text for e in generate_corpus(3, 500)]
    assert train_tokenizer(texts, 500).get_vocab() == train_tokenizer(texts, 500).get_vocab()
