"""Progress bars on stderr for long commands (sirene import, bulk import)."""

from __future__ import annotations


class ProgressBars:
    """Rich progress bars on stderr, one per phase; none when stderr is not a terminal
    or in plain mode (SET-5: no animation).

    The bars start at the first step, not on entering: by then the command has looked
    up its session, so an account that chose accessibility gets none (SET-5)."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix  # the phases' labels are the messages progress.<prefix><phase>
        self.bars = None
        self.started = False
        self.tasks: dict[str, int] = {}

    def __enter__(self) -> ProgressBars:
        return self

    def _start(self) -> None:
        from chorus_cli.ui.output import plain

        self.started = True
        if plain():
            return
        from rich.console import Console

        console = Console(stderr=True)
        if not console.is_terminal:
            return
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

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        if not self.started:
            self._start()
        if self.bars is None:
            return
        task = self.tasks.get(phase)
        if task is None:
            from chorus_cli.i18n import message

            task = self.tasks[phase] = self.bars.add_task(
                message(f"progress.{self.prefix}{phase}"), total=total
            )
        self.bars.update(task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.bars is not None:
            self.bars.stop()
