"""chorus demo: placeholder until the narrated flow lands."""

from __future__ import annotations


def demo() -> None:
    """Run the main flows on a temporary store, narrated (nothing touches your store).

    Example: chorus demo
    """
    from chorus_cli.demo import run

    run()
