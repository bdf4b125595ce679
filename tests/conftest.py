import os

# Tests never reach a model hub: a name that is not local must fail fast and clearly.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Library calls cache chat responses on disk by default; tests that want a cache pass their own.
os.environ.setdefault("OVERSEER_CHAT_CACHE", "off")
