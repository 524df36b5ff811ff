"""The one place chorus touches Typer's private copy of Click (``typer._click``).

Typer 0.27 (pinned below 0.28 for start-up, PERFORMANCE.md) ships its own Click, which
is no public API: its exceptions, its stdout wrapper and four methods chorus replaces
so that help and usage errors speak the user's language (``ui/helptext.py`` says what
the replacements do). Everything chorus uses of it is named here, with the signature it
expects; tests/test_vendored_click.py fails when an upgrade of Typer changes any of it,
or the English sentences helptext.py translates.

Typer imports its Click at start-up anyway: importing this module costs nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer.core
from typer._click import core, exceptions, formatting, shell_completion, utils

# The exceptions `cli.py` maps to exit codes and helptext.py says in the user's language.
ClickException = exceptions.ClickException
UsageError = exceptions.UsageError
MissingParameter = exceptions.MissingParameter
BadParameter = exceptions.BadParameter
NoSuchOption = exceptions.NoSuchOption
NoArgsIsHelpError = exceptions.NoArgsIsHelpError
Command = core.Command
Context = core.Context
HelpFormatter = formatting.HelpFormatter

# The methods replaced by ``patch``, each with the parameters its replacement takes
# and passes on: (owner, attribute) -> parameter names.
PATCHED: dict[tuple[type, str], tuple[str, ...]] = {
    (formatting.HelpFormatter, "write_usage"): ("self", "prog", "args", "prefix"),
    (formatting.HelpFormatter, "write_heading"): ("self", "heading"),
    (core.Command, "get_short_help_str"): ("self", "limit"),
    (core.Command, "get_help"): ("self", "ctx"),
}
# What ``patch`` replaced, as Click had it.
ORIGINALS: dict[tuple[type, str], Callable[..., Any]] = {}


def join_param_hints(hint: Any) -> str | None:
    """Click's way of naming a parameter in an error: ``'--email'``, ``'-f' / '--format'``."""
    return exceptions._join_param_hints(hint)


def output_closed(stream: object) -> bool:
    """True when Click met a closed pipe on stdout and wrapped the stream (EPIPE)."""
    return isinstance(stream, utils.PacifyFlushWrapper)


def patch(
    *,
    gettext: Callable[[str], str],
    usage_prefix: Callable[[], str],
    heading: Callable[[str], str],
    help_option: Callable[[], str],
    summary_limit: int,
    before_help: Callable[[Any], None],
) -> None:
    """Replace, once per process: Typer's gettext (``Options``, ``default: …``) by
    ``gettext``; the usage line's ``Usage:`` by ``usage_prefix()``; a heading ``Name:`` by
    ``heading(name)``; a command's summary in a list, cut to 45 characters, by its first
    sentence up to ``summary_limit``; and, before a command's help is written, call
    ``before_help(command)`` and give its ``--help`` option the help ``help_option()``
    (then only: a command that runs reads no help catalogue for it)."""
    if ORIGINALS:
        return
    for (owner, name), _params in PATCHED.items():
        ORIGINALS[owner, name] = getattr(owner, name)
    typer.core._ = gettext  # type: ignore[attr-defined]
    write_usage = ORIGINALS[formatting.HelpFormatter, "write_usage"]
    get_short_help_str = ORIGINALS[core.Command, "get_short_help_str"]
    get_help = ORIGINALS[core.Command, "get_help"]

    def new_write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, usage_prefix() if prefix is None else prefix)

    def new_write_heading(self: Any, name: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading(name)}\n")

    def new_get_short_help_str(self: Any, limit: int = 45) -> str:
        return get_short_help_str(self, max(limit, summary_limit))

    def new_get_help(self: Any, ctx: Any) -> str:
        before_help(self)
        option = self.get_help_option(ctx)  # Click's, made once per command and kept
        if option is not None:
            option.help = help_option()
        return get_help(self, ctx)

    formatting.HelpFormatter.write_usage = new_write_usage  # type: ignore[method-assign]
    formatting.HelpFormatter.write_heading = new_write_heading  # type: ignore[method-assign]
    core.Command.get_short_help_str = new_get_short_help_str  # type: ignore[method-assign]
    core.Command.get_help = new_get_help  # type: ignore[method-assign]


# --- shell completion (OUT-6, ``ui/completion.py``) -----------------------------------
# A value Click offers the shell, with the help zsh and fish show beside it.
CompletionItem = shell_completion.CompletionItem


def set_completer(param: core.Parameter, completer: Callable[..., list[Any]]) -> None:
    """Have Click ask ``completer(ctx, param, incomplete)`` for the parameter's values:
    what Click's ``shell_complete=`` keeps, and asks before the parameter's type."""
    param._custom_shell_complete = completer  # type: ignore[attr-defined]


def completion_args(shell: str, complete_var: str) -> list[str] | None:
    """The words before the one being completed, as Typer's class for ``shell`` reads
    them from the environment (bash's COMP_WORDS and COMP_CWORD, the others'
    _TYPER_COMPLETE_ARGS), the program's name left out; None for a shell Typer does not
    complete."""
    from typer._completion_classes import completion_init

    completion_init()
    found = shell_completion.get_completion_class(shell)
    if found is None:
        return None
    args, _incomplete = found(None, {}, "chorus", complete_var).get_completion_args()  # type: ignore[arg-type]
    return list(args)
