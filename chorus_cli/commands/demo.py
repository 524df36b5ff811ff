"""chorus demo: the main flows, narrated, on a temporary store."""

from __future__ import annotations

from typing import Annotated

import typer


def demo(
    ctx: typer.Context,
    plain: Annotated[
        bool, typer.Option("--plain", help="No colour, no box drawing (accessibility).")
    ] = False,
) -> None:
    """Run the main flows on a temporary store, narrated (nothing touches your store).

    Example: chorus demo
    """
    import os

    from chorus_cli.commands._common import entry_point
    from chorus_cli.demo import run
    from chorus_cli.i18n import current

    run(entry_point(ctx), lang=current(), plain=plain or bool(os.environ.get("NO_COLOR")))
