"""One progress-bar helper, so every long loop in overseer looks the same."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich import get_console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

T = TypeVar("T")

# A display that is already live (the audit's section lines): bars join it as rows instead of starting a
# second live display, which would fight the first for the same terminal line.
_shared: list[Progress] = []


@contextmanager
def sharing(progress: Progress) -> Iterator[Progress]:
    """While inside, `progress_bar` adds its bars as rows of `progress`."""
    _shared.append(progress)
    try:
        yield progress
    finally:
        _shared.remove(progress)


def progress_bar(items: Iterable[T], description: str, enabled: bool = True,
                 total: int | None = None) -> Iterator[T]:
    if enabled and _shared:
        yield from _as_row(_shared[-1], items, description, total)
        return
    if not enabled or not get_console().is_terminal:  # off a terminal a bar is noise (and ends in a blank line)
        yield from items
        return
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        if total is None and hasattr(items, "__len__"):
            total = len(items)  # type: ignore[arg-type]
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)


def _as_row(progress: Progress, items: Iterable[T], description: str, total: int | None) -> Iterator[T]:
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    task = progress.add_task(description, total=total)
    try:
        for item in items:
            yield item
            progress.advance(task)
    finally:
        progress.remove_task(task)
