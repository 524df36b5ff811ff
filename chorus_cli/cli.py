"""The chorus command: root options, the command groups, and errors mapped to exit codes
(``_run`` and ``explain``: the one place an error becomes a sentence and an exit code).

Only Typer is imported at start-up; every command imports what it needs when it runs.
The command line is read before Click parses it by ``preparse.py``.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

import typer

from chorus_cli import preparse
from chorus_cli.commands import _dry_run as dry_run
from chorus_cli.commands._common import STATE, AppContext, new_group

if TYPE_CHECKING:
    from typer.core import TyperGroup as click_command

HELP = "Administer Chorus Pro user accounts: accounts, log-in, mail outbox, audit log."


class Lang(StrEnum):
    fr = "fr"
    en = "en"


def _version(value: bool) -> None:
    if value:
        from chorus_cli import __version__

        print(f"chorus {__version__}")
        raise typer.Exit()


def root(
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="CHORUS_DATABASE_URL",
            metavar="URL",
            help="SQLAlchemy URL of the store (default: SQLite in the user data dir).",
            show_envvar=True,
        ),
    ] = None,
    lang: Annotated[
        Lang | None,
        typer.Option(
            "--lang",
            help="Language of messages and help: fr or en (else CHORUS_LANG, else your"
            " preference, else fr).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """chorus: the Chorus Pro account lifecycle from the terminal."""
    from chorus_cli.i18n import set_lang
    from chorus_cli.ui.output import set_plain

    STATE.db = db_url
    STATE.lang = lang.value if lang else preparse.env_lang()
    STATE._settings = None
    set_lang(STATE.lang)
    set_plain(False)  # until the session's account says otherwise (SET-5)


# Each group and top-level command as (module of chorus_cli.commands, attribute): a
# module is imported only when its command is built, so `chorus whoami` loads
# commands.session alone; `chorus --help` loads them all, for their summaries.
GROUPS = {
    "account": ("account", "app"),
    "mfa": ("mfa", "app"),
    "admin": ("admin", "app"),
    "structure": ("structure", "app"),
    "attach": ("attach", "app"),
    "habil": ("habil", "app"),
    "mail": ("mail", "app"),
    "audit": ("audit", "app"),
    "db": ("db", "app"),
    "sirene": ("sirene", "app"),
    "bulk": ("bulk", "app"),
    "login-address": ("login_address", "app"),
    "notify": ("notify", "app"),
    "api": ("api", "app"),
}
COMMANDS = {
    "login": ("session", "login"),
    "logout": ("session", "logout"),
    "whoami": ("session", "whoami"),
    "demo": ("demo", "demo"),
    "seed": ("seed", "seed"),
    "batch": ("batch", "batch"),
    "serve": ("serve", "serve"),
}


def _load(where: tuple[str, str]) -> Any:
    from importlib import import_module

    module, attribute = where
    return getattr(import_module(f"chorus_cli.commands.{module}"), attribute)


# Summaries for `chorus --help` where the first sentence is a paragraph of its own.
SUMMARIES = {
    "seed": "Fill an empty store with realistic French data, the same for one seed (OPS-3).",
    "batch": "Run many chorus command lines in one process, in order (OPS-6).",
}


def make_app(only: str | None = None, within: tuple[str, ...] | None = ()) -> typer.Typer:
    """The chorus app; with ``only``, just that command or group (a cheaper tree to build).

    ``within`` trims the groups further (``_trimmed``): the subcommands named on the
    line, e.g. ``("show",)`` for ``chorus account show``; ``None``: no subcommands at all,
    the groups with only what ``chorus --help`` lists of them (their summaries)."""
    made = new_group("chorus", HELP)
    made.callback()(root)
    for name, where in COMMANDS.items():
        if only in (None, name):
            made.command(name, short_help=SUMMARIES.get(name))(_load(where))
    for name, where in GROUPS.items():
        if only in (None, name):
            made.add_typer(_trimmed(_load(where), within))
    from chorus_cli.commands._shaping import add_shaping, add_window

    add_window(made)  # --limit/--offset/--all on every listing (OUT-2)
    dry_run.offer(made)  # OUT-5: --dry-run on every command that may change the store
    add_shaping(made)  # --fields and --excel wherever --format is (OUT-3, OUT-4)
    return made


def _trimmed(group: typer.Typer, within: tuple[str, ...] | None) -> typer.Typer:
    """``group`` holding only the path ``within`` of its subcommands (a copy: the
    group's module keeps its own); whole for ``()``; empty for ``None``.

    Typer builds every command of a group it builds (their parameters, from their
    signatures: about 1 ms a command); a command line needs only the command it names,
    and ``chorus --help`` only the groups' own texts. What the line shows or runs is the
    same as with the whole tree: a word that names no subcommand keeps the group whole
    (``_path``), for Click's "No such command" and its suggestion."""
    if within == ():
        return group
    import copy

    trimmed = copy.copy(group)
    trimmed.registered_commands, trimmed.registered_groups = [], []
    if within is None:
        return trimmed
    commands, groups = _named(group)
    first, rest = within[0], within[1:]
    if first in commands:
        trimmed.registered_commands = [commands[first]]
    elif first in groups:
        sub = copy.copy(groups[first])
        sub.typer_instance = _trimmed(sub.typer_instance, rest)
        trimmed.registered_groups = [sub]
    return trimmed


def _named(group: typer.Typer) -> tuple[dict[str, Any], dict[str, Any]]:
    """A group's commands and subgroups (as registered), by the name the line gives."""
    commands = {i.name or dry_run.command_name(i.callback): i for i in group.registered_commands}
    groups = {
        i.name or i.typer_instance.info.name or "": i
        for i in group.registered_groups
        if i.typer_instance is not None
    }
    return commands, groups


def _path(group: str, args: list[str]) -> tuple[str, ...]:
    """The subcommands of ``group`` named on the line after it (``args``, root options
    hoisted): ``("show",)`` for ``account show x@y.fr``, ``("service", "list")`` for
    ``structure service list 1``; ``()`` (the whole group) when the word after a group
    is no subcommand of it (an option, ``--help``, a typo)."""
    node = _load(GROUPS[group])
    path: list[str] = []
    for word in args[preparse.command_index(args) + 1 :]:
        commands, groups = _named(node)
        if word in commands:
            return (*path, word)
        if word not in groups:
            break
        path.append(word)
        node = groups[word].typer_instance
    return tuple(path)


@cache
def _whole_app() -> typer.Typer:
    return make_app()


def __getattr__(name: str) -> Any:
    """``chorus_cli.cli.app``: the whole app, built when first asked for."""
    if name == "app":
        return _whole_app()
    raise AttributeError(name)


def report(code: int, kind: str, text: str, as_json: bool) -> None:
    """One sentence on stderr; a JSON object there with --format json (SPEC contract)."""
    if as_json:
        import json

        print(
            json.dumps(
                {"error": {"code": code, "kind": kind, "message": text}}, ensure_ascii=False
            ),
            file=sys.stderr,
        )
    else:
        print(text, file=sys.stderr)


@cache
def _command(
    only: str | None, completing: bool = False, within: tuple[str, ...] | None = ()
) -> click_command:
    """The Click command tree, built once per process (~10 ms for the whole of it); its
    help is put in the current language when shown (SET-5, ``ui/helptext.py``); for
    shell completion, its parameters complete their values (OUT-6). ``within`` as
    ``make_app``'s."""
    from chorus_cli.ui import helptext

    helptext.install()
    whole = only is None and within == ()
    command = typer.main.get_command(_whole_app() if whole else make_app(only, within))
    if completing:
        from chorus_cli.ui import completion

        completion.install(command)
    return command


def _tree(args: list[str], completing: bool = False) -> click_command:
    """The tree a command line needs (start-up, PERFORMANCE.md): the command or group it
    names, trimmed to the subcommands it names; the root with the groups' texts alone
    when it names none (``chorus --help``, ``chorus``, a mistyped name). ``completing``:
    for shell completion, ``args`` the words before the one completed (OUT-6)."""
    names = GROUPS.keys() | COMMANDS.keys()
    named = preparse.invoked(args, names)
    if named is None:
        # A name further on (``chorus --help account``) is Click's to read: the whole tree.
        return _command(None, completing, () if any(a in names for a in args) else None)
    return _command(named, completing, _path(named, args) if named in GROUPS else ())


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command, turn every user error into its exit code.

    Usage errors are Click's (exit 2; a JSON object with --format json); domain errors
    are ours, one sentence each; an unexpected error is one sentence too, its traceback
    only with CHORUS_DEBUG=1 (our locals and SQL parameters hold secrets).
    """
    from chorus_cli.store.engine import reset_commits

    if not _nesting[0]:  # a batch's lines (OPS-6) add to the batch's count (SEC-12)
        reset_commits()
    _nesting[0] += 1
    try:
        _main(argv)
    finally:
        _nesting[0] -= 1


# How many ``main`` calls are running: a batch runs each of its lines through ``main``.
_nesting = [0]


def _main(argv: list[str] | None) -> None:
    _never_fail_on_output()
    instruction = preparse.completion()
    if instruction is not None:
        _complete(instruction)
        return
    args = preparse.hoist_root_options(list(sys.argv[1:] if argv is None else argv))
    as_json = preparse.wants_json(args)
    _early_lang(args, as_json)
    _refuse_undecodable(args, as_json)
    command = _tree(args)
    try:
        _run(command, args, as_json)
    except SystemExit:
        if _reader_went_away():
            sys.exit(0)
        raise
    finally:
        _say_store_notes()


def _complete(instruction: str) -> None:
    """Shell completion (OUT-6): Click answers from the tree of the command on the line
    (``_tree``, as the command would run), its values given by ``ui/completion.py``;
    nothing is said on stderr, whatever happens."""
    from chorus_cli.ui import completion

    with completion.quietly():
        from chorus_cli.i18n import LANGS, set_lang

        words = preparse.hoist_root_options(completion.words(instruction, preparse.COMPLETE_VAR))
        chosen = preparse.lang_option(words)  # the help zsh and fish show, in its language
        set_lang(chosen if chosen in LANGS else preparse.env_lang())
        completion.run(_tree(words, completing=True), STATE.clock, preparse.db_option(words))


def _never_fail_on_output() -> None:
    """Text the terminal's encoding cannot show (``PYTHONIOENCODING=ascii``, a C locale)
    is written as ``\\xc9`` escapes: printing what was saved never fails once it is saved
    (SEC-12)."""
    import io

    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")


def _reader_went_away() -> bool:
    """True when stdout's reader closed the pipe (``chorus … | head -1``, SEC-3): the
    command then ends quietly, exit 0, as Unix filters do, instead of Typer's silent 1
    or Python's "Exception ignored … BrokenPipeError" at exit."""
    from chorus_cli.ui.vendored_click import output_closed

    closed = output_closed(sys.stdout)  # Typer met EPIPE and wrapped it
    if not closed:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            closed = True
    if closed:
        import contextlib
        import os

        # Nothing more may reach the closed pipe, not even at interpreter exit.
        with contextlib.suppress(OSError, AttributeError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())
    return closed


def _early_lang(args: list[str], as_json: bool) -> None:
    """The language of what is said before the command line is parsed, help and usage
    errors included (SET-5): ``--lang`` (hoisted to the front), else CHORUS_LANG, else
    French; the root callback settles it again, and a session's account may change it.
    An unknown ``--lang`` is bad input (exit 2); an unknown CHORUS_LANG, a warning."""
    import os

    from chorus_cli.i18n import LANGS, message, set_lang

    set_lang("fr")
    env = os.environ.get("CHORUS_LANG") or None
    chosen = preparse.lang_option(args)
    if chosen is not None and chosen not in LANGS:
        report(2, "usage", message("set5.lang_unknown", value=chosen), as_json)
        sys.exit(2)
    if chosen is None and env is not None and env not in LANGS:
        print(message("set5.lang_env_unknown", value=env), file=sys.stderr)
    set_lang(chosen or (env if env in LANGS else None))


def _refuse_undecodable(args: list[str], as_json: bool) -> None:
    """An argument that is not UTF-8 (SEC-3) is named before anything runs: it would
    otherwise reach a check as U+DCxx and read as some other mistake."""
    found = preparse.undecodable_argument(args)
    if found is not None:
        from chorus_cli.i18n import message

        shown, byte = found
        text = message("sec3.invalid_utf8_argument", argument=shown, byte=f"0x{byte:02x}")
        report(2, "bad_input", text, as_json)
        sys.exit(2)


def _say_store_notes() -> None:
    """What the store noted while the command ran (a fallback, a readable file)."""
    from chorus_cli.store import notes

    taken = notes.drain()
    if taken:
        from chorus_cli.i18n import message

        for key, params in taken:
            print(message(key, **params), file=sys.stderr)


def _run(command: click_command, args: list[str], as_json: bool) -> None:
    # Typer 0.27 (pinned) ships its own copy of Click: its exceptions, not click's.
    from chorus_cli.kernel.errors import ChorusError
    from chorus_cli.ui import vendored_click as click_errors

    try:
        # Not standalone: Click would print its usage errors itself, never as JSON.
        # ``obj``: the entry point, for the commands that run command lines themselves.
        code = command.main(args=args, prog_name="chorus", standalone_mode=False, obj=main)
    except click_errors.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click_errors.ClickException as exc:
        from chorus_cli.ui import helptext

        if as_json:
            said = " ".join(filter(None, (helptext.error_message(exc), helptext._right_form(exc))))
            report(exc.exit_code, "usage", said, as_json)
        else:
            print(helptext.usage_error(exc), file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Abort:
        from chorus_cli.i18n import help_text

        print(help_text("Aborted!"), file=sys.stderr)
        sys.exit(1)
    except ChorusError as exc:
        from chorus_cli.i18n import message

        report(exc.exit_code, exc.kind, message(exc.key, **exc.params), as_json)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        import os

        mapped = explain(exc)
        if mapped is None:
            if os.environ.get("CHORUS_DEBUG"):
                raise
            from chorus_cli.i18n import message

            report(1, "internal", message(_honest("internal.error"), error=type(exc).__name__),
                   as_json)  # fmt: skip
            sys.exit(1)
        code, kind, text = mapped
        report(code, kind, text, as_json)
        sys.exit(code)
    sys.exit(code if isinstance(code, int) else 0)


# Messages that say "nothing was saved", and their twins that say the command's earlier
# steps were: used when the command committed before failing (SEC-12).
AFTER_COMMIT = {
    "internal.error": "internal.error.after_commit",
    "sec3.invalid_utf8": "sec3.invalid_utf8.after_commit",
    "sec10.lock_timeout": "sec10.lock_timeout.after_commit",
}


def _honest(key: str) -> str:
    """``key``, or its after-commit twin when the command saved something already."""
    from chorus_cli.store.engine import saved_something

    return AFTER_COMMIT[key] if saved_something() else key


# SQLSTATEs PostgreSQL answers with (psycopg's ``sqlstate``).
INSUFFICIENT_PRIVILEGE = "42501"
LOCK_NOT_AVAILABLE = "55P03"


def explain(exc: Exception) -> tuple[int, str, str] | None:
    """The exit code, kind and sentence of an error that is not a ChorusError but is no
    bug of chorus either (SEC-3: a store, a driver, a number, bytes); None for a bug.

    Exit codes: 2 for a store that cannot be used as configured (URL, driver, host that
    does not answer: SEC-10) and for bad input; 4 for a store role lacking a privilege
    (like any "not allowed"); 1 for a lock another session held past the lock timeout
    (refused for now: run it again).
    """
    from sqlalchemy.exc import (
        ArgumentError,
        DatabaseError,
        DBAPIError,
        OperationalError,
        ProgrammingError,
        StatementError,
    )

    from chorus_cli.i18n import message

    def store() -> str:  # the store the error came from (``store_url``: not the command's)
        from chorus_cli.store.keychain import store_id

        return store_id(getattr(exc, "store_url", None) or STATE.settings.database_url)

    if isinstance(exc, StatementError) and isinstance(exc.orig, OverflowError | UnicodeDecodeError):
        exc = exc.orig  # a value SQLAlchemy could not bind for the driver
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(exc, ArgumentError):  # includes an unknown dialect
        return 2, "store", message("store.bad_url", reason=str(exc).splitlines()[0])
    if isinstance(exc, ModuleNotFoundError):  # a dialect whose driver is not installed
        return 2, "store", message("sec3.driver_missing", url=store(), module=exc.name or "?")
    if isinstance(exc, OverflowError):  # an id, a count or a date beyond what is stored
        return 2, "bad_input", message("sec3.number_too_large")
    if isinstance(exc, UnicodeDecodeError):  # input bytes that are not UTF-8, wherever read
        reason = str(exc).splitlines()[0]
        return 2, "bad_input", message(_honest("sec3.invalid_utf8"), reason=reason)
    if isinstance(exc, ProgrammingError) and sqlstate == INSUFFICIENT_PRIVILEGE:
        reason = str(orig).strip().splitlines()[0]
        return 4, "not_allowed", message("sec3.store_privilege", url=store(), reason=reason)
    if isinstance(exc, OperationalError) and sqlstate == LOCK_NOT_AVAILABLE:
        return 1, "store", message(_honest("sec10.lock_timeout"), url=store())
    if isinstance(exc, OperationalError) and type(orig).__name__ == "ConnectionTimeout":
        from chorus_cli.store.engine import connect_timeout

        url = STATE.settings.database_url
        seconds = connect_timeout(url)
        return 2, "store", message("sec10.connect_timeout", url=store(), seconds=seconds)
    # A bare DatabaseError (not its Integrity/Programming subclasses) is SQLite's
    # "file is not a database": --db points at some other file.
    if isinstance(exc, OperationalError) or type(exc) is DatabaseError:
        assert isinstance(exc, DBAPIError)
        reason = str(orig).strip().splitlines()[0] if orig else type(exc).__name__
        return 2, "store", message("store.unreachable", url=store(), reason=reason)
    return None


__all__ = ["AppContext", "main"]
