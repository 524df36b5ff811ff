"""Progress bars on stderr for long commands (sirene import, bulk import)."""

from __future__ import annotations


class ProgressBars:
    """Rich progress bars on stderr, one per phase; none when stderr is not a terminal
    or in plain mode (SET-5: no animation)."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix  # the phases' labels are the messages progress.<prefix><phase>
        self.bars = None
        self.tasks: dict[str, int] = {}

    def __enter__(self) -> ProgressBars:
        from chorus_cli.ui.output import plain

        if plain():
            return self
        from rich.console import Console

        console = Console(stderr=True)
        if not console.is_terminal:
            return self
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self.bars = Progress(
            TextColumn("{task.description:<22}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self.bars.start()
        return self

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        if self.bars is None:
            return
        task = self.tasks.get(phase)
        if task is None:
            from chorus_cli.ui.i18n import message

            task = self.tasks[phase] = self.bars.add_task(
                message(f"progress.{self.prefix}{phase}"), total=total
            )
        self.bars.update(task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.bars is not None:
            self.bars.stop()
