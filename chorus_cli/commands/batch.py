"""chorus batch: many command lines in one process (OPS-6)."""

from __future__ import annotations

from typing import Annotated

import typer


def batch(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(metavar="FILE", help="Command lines, or - for stdin.")],
    keep_going: Annotated[
        bool,
        typer.Option("--keep-going", help="Run every line; exit with the first failure's code."),
    ] = False,
    atomic: Annotated[
        bool, typer.Option("--atomic", help="One transaction: any failure rolls every line back.")
    ] = False,
) -> None:
    """Run many chorus command lines in one process, in order, on the same store and
    session (OPS-6): a 1,000-line script costs one start-up instead of a thousand. One
    command a line, split as a shell splits words (# comments, blank lines skipped, a
    leading `chorus` optional). Each line's output goes to stdout as if it ran alone,
    its error to stderr with its line number; the batch stops at the first failing line
    and exits with its code, unless --keep-going. With --atomic every line shares one
    transaction: a failure leaves the store as it was, mails and audit included. A line
    that would wait for a person (a prompt, login, logout, a security key) is refused.

    Example: chorus batch accounts.txt --atomic

    Example: printf 'account show --json\\nstructure list\\n' | chorus batch -
    """
    import sys
    from pathlib import Path

    from chorus_cli import batch as batches
    from chorus_cli.commands._common import entry_point
    from chorus_cli.kernel.errors import BadInput
    from chorus_cli.ui.output import say

    entry = entry_point(ctx)
    if file == "-":
        # Bytes when there are (a real stdin): each line is decoded alone, so a line that
        # is not UTF-8 is named and what ran before it is said (SEC-3, SEC-12).
        source = getattr(sys.stdin, "buffer", sys.stdin)
        outcome = batches.run(entry, source, keep_going=keep_going, atomic=atomic)
    else:
        path = Path(file).expanduser()
        if not path.is_file():
            raise BadInput("ops6.file_missing", path=str(path))
        with open(path, "rb") as source:
            outcome = batches.run(entry, source, keep_going=keep_going, atomic=atomic)
    if keep_going and outcome.failed:
        first = outcome.failed[0][0]
        say("ops6.summary", lines=outcome.lines, failed=len(outcome.failed), first=first)
    elif keep_going:  # no failure: no «first failure» to name
        say("ops6.summary_ok", lines=outcome.lines)
    raise typer.Exit(outcome.code)
