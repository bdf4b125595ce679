"""`chat_model(spec)`: one string names any chat model overseer can talk to.

Spec syntax:

    local:NAME_OR_DIR[?steer=STEER_DIR[&layer=N]]   a local HF model (embedded name such as smollm2 or
                                                     organism, a save_pretrained directory, or a Hub id),
                                                     optionally steered by a saved overseer.steering method
    openai:MODEL                                     api.openai.com; needs OPENAI_API_KEY
    openai-compatible:BASE_URL[#MODEL]               any OpenAI-compatible server (vLLM, Ollama, llama.cpp,
                                                     `overseer serve`), e.g. http://127.0.0.1:8000/v1#smollm2;
                                                     without #MODEL the server's only model is used;
                                                     OPENAI_API_KEY is sent if set, otherwise a dummy key
    anthropic:MODEL                                  Anthropic; needs ANTHROPIC_API_KEY
    vllm:NAME_OR_DIR[?key=value]                     vLLM's OpenAI-compatible server, started and stopped by
                                                     overseer on a free loopback port (needs vLLM and a GPU;
                                                     options become vLLM flags, e.g. ?tensor_parallel_size=2);
                                                     generation only: steering stays on local:

Every model comes wrapped in retries with bounded concurrency and, unless `cache=False`, in the SQLite
response cache (outermost, so a cache hit never waits for a concurrency slot). Providers are registered in
`PROVIDERS`; a new one is a builder function decorated with `@PROVIDERS.register("name")`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

from overseer.errors import ConfigurationError
from overseer.models.chat.base import ChatModel
from overseer.models.chat.cache import CachedChatModel, ResponseCache, shared_cache
from overseer.models.chat.retry import RetryingChatModel
from overseer.registry import Registry

# provider -> builder(target, options, spec) -> ChatModel; each builder imports its client lazily.
ProviderBuilder = Callable[[str, dict[str, str], str], ChatModel]
PROVIDERS: Registry[ProviderBuilder] = Registry("chat provider", error=ConfigurationError)


@PROVIDERS.register("local", help="a local HF model, optionally steered: local:NAME_OR_DIR[?steer=DIR&layer=N]")
def _local(target: str, options: dict[str, str], spec: str) -> ChatModel:
    from overseer.models.chat.local import LocalChatModel

    layer = options.get("layer")
    if layer is not None and not layer.lstrip("-").isdigit():
        raise ConfigurationError(f"layer={layer!r} in {spec!r} is not an integer.")
    return LocalChatModel(target, steer=options.get("steer"), steer_layer=None if layer is None else int(layer))


@PROVIDERS.register("openai", help="api.openai.com (OPENAI_API_KEY): openai:MODEL")
def _openai(target: str, options: dict[str, str], spec: str) -> ChatModel:
    from overseer.models.chat.openai_compat import OpenAIChatModel

    return OpenAIChatModel(target)


@PROVIDERS.register("openai-compatible", help="vLLM, Ollama, llama.cpp, `overseer serve`: "
                    "openai-compatible:BASE_URL[#MODEL]")
def _openai_compatible(target: str, options: dict[str, str], spec: str) -> ChatModel:
    from overseer.models.chat.openai_compat import OpenAIChatModel

    url, _, model = target.partition("#")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"{spec!r}: the base URL must start with http:// or https://, "
                                 "e.g. openai-compatible:http://127.0.0.1:8000/v1#smollm2.")
    return OpenAIChatModel(model or None, base_url=url, require_key=False, provider="openai-compatible")


@PROVIDERS.register("anthropic", help="Anthropic (ANTHROPIC_API_KEY): anthropic:MODEL")
def _anthropic(target: str, options: dict[str, str], spec: str) -> ChatModel:
    from overseer.models.chat.anthropic import AnthropicChatModel

    return AnthropicChatModel(target)


@PROVIDERS.register("vllm", help="vLLM started on a free loopback port (GPU): vllm:NAME_OR_DIR[?flag=value]")
def _vllm(target: str, options: dict[str, str], spec: str) -> ChatModel:
    from overseer.models.chat.vllm_server import start_vllm

    return start_vllm(target, options)


def parse_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """(provider, target, options) from a spec string; raises `ConfigurationError` with the syntax."""
    provider, sep, target = spec.partition(":")
    if not sep or provider not in PROVIDERS or not target:
        raise ConfigurationError(
            f"cannot read model spec {spec!r}: use local:NAME_OR_DIR[?steer=DIR], openai:MODEL, "
            "openai-compatible:BASE_URL[#MODEL], anthropic:MODEL or vllm:NAME_OR_DIR."
        )
    options: dict[str, str] = {}
    if provider in ("local", "vllm") and "?" in target:
        target, query = target.split("?", 1)
        parsed = parse_qs(query, keep_blank_values=False)
        unknown = set(parsed) - {"steer", "layer"}
        if unknown and provider == "local":
            raise ConfigurationError(f"unknown option(s) {sorted(unknown)} in {spec!r}: local specs take "
                                     "?steer=DIR and &layer=N.")
        options = {key: values[-1] for key, values in parsed.items()}
    return provider, target, options


def base_chat_model(spec: str) -> ChatModel:
    """The provider's model alone, without retries or cache."""
    provider, target, options = parse_spec(spec)
    return PROVIDERS.get(provider)(target, options, spec)


def chat_model(spec: str | ChatModel, cache: str | Path | ResponseCache | bool | None = True,
               max_concurrency: int = 4, max_retries: int = 5, base_delay: float = 0.5,
               max_delay: float = 30.0) -> ChatModel:
    """A ready-to-use chat model: provider + retries + response cache. `spec` may also be a ChatModel to wrap.

    `cache=True` (the default) uses the shared on-disk cache (`overseer.models.chat.cache.default_cache_path`:
    ~/.cache/overseer/chat-cache.sqlite, or $OVERSEER_CHAT_CACHE; `OVERSEER_CHAT_CACHE=off` turns it off);
    a path or a ResponseCache uses that one; False or None caches nothing.
    """
    inner = spec if isinstance(spec, ChatModel) else base_chat_model(spec)
    model: ChatModel = RetryingChatModel(inner, max_concurrency=max_concurrency, max_retries=max_retries,
                                         base_delay=base_delay, max_delay=max_delay)
    store = shared_cache() if cache is True else (None if cache is False else cache)
    if store is not None:
        model = CachedChatModel(model, store)
    return model
