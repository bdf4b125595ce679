"""The audit's terminal output: one line per section (a spinner with the elapsed time while it runs, then
its status and duration), with the sections' own progress bars nested beneath while they run, and at the end
the total time and the machine it ran on."""

from __future__ import annotations

import time
from contextlib import ExitStack

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from overseer.models.progress import sharing
from overseer.report.sections import Section

COLOURS = {"ok": "green", "skipped": "yellow", "failed": "red"}


class SectionProgress:
    def __init__(self, console: Console) -> None:
        self.console = console
        # Off the terminal (a log, CI) only the finished lines are printed: no bar, no blank line.
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), _WithTotal(BarColumn()),
                                 _WithTotal(MofNCompleteColumn()), TimeElapsedColumn(), console=console,
                                 transient=True, disable=not console.is_terminal)
        self.task: TaskID | None = None
        self._stack = ExitStack()
        self.sections: list[Section] = []
        self._start = time.perf_counter()

    def __enter__(self) -> SectionProgress:
        from overseer.report.timing import machine_info

        self._start, self.machine = time.perf_counter(), machine_info()
        self._stack.enter_context(self.progress)
        if console_is_live(self.console):
            self._stack.enter_context(sharing(self.progress))  # the sections' own bars become rows here
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
        if self.sections:
            self.console.print(self.total_line(), highlight=False)

    def total_line(self) -> str:
        from overseer.report.timing import duration, machine_line

        return (f"total: {duration(time.perf_counter() - self._start)} for {len(self.sections)} section(s) "
                f"on {machine_line(self.machine)}")

    def start(self, key: str, title: str) -> None:
        self.task = self.progress.add_task(title, total=None)

    def done(self, section: Section) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.progress.refresh()
            self.task = None
        self.sections.append(section)
        colour = COLOURS.get(section.status, "white")
        self.console.print(f"[{colour}]{section.status:>7}[/] {section.title} ({section.seconds:.0f} s)",
                           highlight=False)


def console_is_live(console: Console) -> bool:
    return console.is_terminal


class _WithTotal(ProgressColumn):
    """A column shown only for rows that count something (a section's own bars), blank on the section line."""

    def __init__(self, column: ProgressColumn) -> None:
        super().__init__()
        self.column = column

    def render(self, task: Task) -> Text:
        return self.column.render(task) if task.total is not None else Text("")  # type: ignore[return-value]
