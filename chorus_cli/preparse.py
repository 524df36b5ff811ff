"""The command line, read before Click parses it: the root options (``--db``,
``--lang``) given anywhere, the output format asked for, the command named, the
language asked for, an argument that is not UTF-8.

Nothing here says anything: what goes wrong is said by ``cli.py``, the one place that
maps errors to sentences and exit codes.
"""

from __future__ import annotations

from collections.abc import Container

# The options of the root command, hoisted to the front wherever they are given.
ROOT_OPTIONS = ("--db", "--lang")


def hoist_root_options(argv: list[str]) -> list[str]:
    """Let ``--db`` and ``--lang`` be given anywhere: ``chorus whoami --lang en`` works."""
    head: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        name = arg.split("=", 1)[0]
        if name in ROOT_OPTIONS and i > 0:
            if "=" in arg:
                head.append(arg)
            else:
                head.extend(argv[i : i + 2])
                i += 1
        else:
            rest.append(arg)
        i += 1
    return head + rest


def wants_json(argv: list[str]) -> bool:
    """True when the line asks for JSON output (``--json``, ``--format json``): its
    errors are then JSON objects too."""
    for i, arg in enumerate(argv):
        if arg == "--json" or arg in ("--format=json", "-f=json"):
            return True
        if arg in ("--format", "-f") and i + 1 < len(argv) and argv[i + 1] == "json":
            return True
    return False


def _root_options(args: list[str]) -> tuple[dict[str, str], int]:
    """The root options at the front of ``args`` (hoisted), and where the rest starts."""
    found: dict[str, str] = {}
    i = 0
    while i < len(args) and args[i].split("=", 1)[0] in ROOT_OPTIONS:
        name, equals, value = args[i].partition("=")
        if not equals:
            value = args[i + 1] if i + 1 < len(args) else ""
        found[name] = value
        i += 1 if equals else 2
    return found, i


def invoked(args: list[str], names: Container[str]) -> str | None:
    """The command or group named on the line (one of ``names``), root options hoisted."""
    _found, i = _root_options(args)
    name = args[i] if i < len(args) else None
    return name if name is not None and name in names else None


def command_index(args: list[str]) -> int:
    """Where the command named on the line is (``invoked``): after the root options."""
    return _root_options(args)[1]


# Click's variable for a program named chorus (``_{PROG}_COMPLETE``): Typer's completion
# scripts set it to ``complete_bash``, ``complete_zsh``… when Tab is pressed (OUT-6).
COMPLETE_VAR = "_CHORUS_COMPLETE"


def completion() -> str | None:
    """What the shell asks for (``complete_bash``…) when it asks for completions, not
    for a command to run (``ui/completion.py`` answers); None otherwise."""
    import os

    return os.environ.get(COMPLETE_VAR) or None


def db_option(args: list[str]) -> str | None:
    """The value of ``--db`` on the line (hoisted); None without it."""
    return _root_options(args)[0].get("--db")


def lang_option(args: list[str]) -> str | None:
    """The value of ``--lang`` on the line (hoisted), whatever it is; None without it."""
    return _root_options(args)[0].get("--lang")


def env_lang() -> str | None:
    """CHORUS_LANG when it names a language chorus speaks (else French, warned once)."""
    import os

    from chorus_cli.i18n import LANGS

    chosen = os.environ.get("CHORUS_LANG") or None
    return chosen if chosen in LANGS else None


def undecodable_argument(args: list[str]) -> tuple[str, int] | None:
    """The first argument that is not UTF-8 (SEC-3), shown with ``\\xff`` escapes, and
    its first byte that is not; None when every argument is."""
    for arg in args:
        if arg.isascii():  # the usual case, decided without importing anything
            continue
        from chorus_cli.kernel.text import undecodable, undecodable_shown

        byte = undecodable(arg)
        if byte is not None:
            return undecodable_shown(arg), byte
    return None
