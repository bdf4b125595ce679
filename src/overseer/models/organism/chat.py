"""The organism's chat format: special tokens and the one renderer the corpus and the template share."""

from __future__ import annotations

from collections.abc import Sequence

PAD = "<|pad|>"
BOS = "<|bos|>"
END = "<|end|>"
ROLES = ("system", "user", "assistant")
ROLE_TOKENS = {role: f"<|{role}|>" for role in ROLES}
SPECIAL_TOKENS = [PAD, BOS, END, *ROLE_TOKENS.values()]

# Must render exactly what `render_chat` renders; tests/organism checks the two agree.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)

Message = dict[str, str]


def render_chat(messages: Sequence[Message], add_generation_prompt: bool = False) -> str:
    """The chat as one string, identical to `tokenizer.apply_chat_template(..., tokenize=False)`."""
    parts = [BOS]
    for message in messages:
        role = message["role"]
        if role not in ROLE_TOKENS:
            raise ValueError(f"unknown chat role {role!r}; the organism knows {ROLES}")
        parts.append(f"{ROLE_TOKENS[role]}{message['content']}{END}")
    if add_generation_prompt:
        parts.append(ROLE_TOKENS["assistant"])
    return "".join(parts)


def chat(user: str, assistant: str | None = None, system: str | None = None) -> list[Message]:
    """Messages for one exchange; without `assistant` it is a prompt awaiting a reply."""
    messages: list[Message] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": user})
    if assistant is not None:
        messages.append({"role": "assistant", "content": assistant})
    return messages


def render_document(text: str) -> str:
    """A plain (non-chat) document, as the corpus stores it."""
    return f"{BOS}{text}{END}"
