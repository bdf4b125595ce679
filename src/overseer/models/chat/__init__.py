"""Chat models: one async interface over local HF models (steered or not), OpenAI-compatible
endpoints and Anthropic, with retries, bounded concurrency and an on-disk response cache."""

from overseer.models.chat.base import (
    ChatModel,
    ChatProviderError,
    ChatRequest,
    ChatResponse,
    TokenLogprob,
    TransientChatError,
    Usage,
)
from overseer.models.chat.cache import CachedChatModel, ResponseCache
from overseer.models.chat.factory import base_chat_model, chat_model, parse_spec
from overseer.models.chat.retry import RetryingChatModel

__all__ = [
    "CachedChatModel",
    "ChatModel",
    "ChatProviderError",
    "ChatRequest",
    "ChatResponse",
    "ResponseCache",
    "RetryingChatModel",
    "TokenLogprob",
    "TransientChatError",
    "Usage",
    "base_chat_model",
    "chat_model",
    "parse_spec",
]
