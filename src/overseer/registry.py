"""One registry idiom for every pluggable component: steering methods, probes, chat providers,
policies, audit sections, built-in models.

A `Registry` maps a name to a component. Components are registered either eagerly (a decorator
on the class or function) or lazily by import path ("package.module:attr"), so that listing the
names for help text never imports torch or a heavy module.

    METHODS = Registry("steering method")

    @METHODS.register("caa")
    class CAA(...): ...

    PROVIDERS = Registry("chat provider")
    PROVIDERS.add_lazy("anthropic", "overseer.models.chat.anthropic:AnthropicChatModel", "Anthropic API")

    METHODS.get("caa")        # -> the class; an unknown name raises InvalidInputError listing the known ones
    METHODS.names()           # -> ["caa", ...] in registration order
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from overseer.errors import InvalidInputError

T = TypeVar("T")


@dataclass
class _Entry:
    value: Any = None
    target: str | None = None  # "module:attr", imported on first use
    help: str = ""


class Registry(Generic[T]):
    """Name -> component, with lazy imports and a listing for help text."""

    def __init__(self, kind: str, error: type[Exception] = InvalidInputError) -> None:
        self.kind = kind
        self._error = error
        self._entries: dict[str, _Entry] = {}

    def register(self, name: str, help: str = "") -> Callable[[T], T]:
        """Decorator: `@REG.register("name")` registers the decorated object under `name`."""

        def decorate(obj: T) -> T:
            self.add(name, obj, help=help or _first_line(obj))
            return obj

        return decorate

    def add(self, name: str, obj: T, help: str = "") -> None:
        self._entries[name] = _Entry(value=obj, help=help)

    def add_lazy(self, name: str, target: str, help: str = "") -> None:
        """Register `module:attr`, imported only when `get(name)` is first called."""
        if ":" not in target:
            raise ValueError(f"lazy registry target must be 'module:attr', got {target!r}")
        self._entries[name] = _Entry(target=target, help=help)

    def get(self, name: str) -> T:
        entry = self._entries.get(name)
        if entry is None:
            raise self._error(f"unknown {self.kind} {name!r}; available: {', '.join(self.names()) or 'none'}.")
        if entry.value is None and entry.target is not None:
            module, attr = entry.target.split(":", 1)
            entry.value = getattr(importlib.import_module(module), attr)
        return entry.value

    def names(self) -> list[str]:
        return list(self._entries)

    def items(self) -> list[tuple[str, T]]:
        """(name, component) pairs in registration order; imports every lazy entry."""
        return [(name, self.get(name)) for name in self._entries]

    def values(self) -> list[T]:
        return [component for _, component in self.items()]

    def help(self, name: str) -> str:
        return self._entries[name].help if name in self._entries else ""

    def listing(self) -> str:
        """One line per component, `name  help`, for CLI help text."""
        width = max((len(n) for n in self._entries), default=0)
        return "\n".join(f"{n.ljust(width)}  {e.help}".rstrip() for n, e in self._entries.items())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def _first_line(obj: Any) -> str:
    doc = getattr(obj, "__doc__", None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""
