"""Shell completion of option and argument values (OUT-6).

Click answers the shell (Typer's scripts: ``chorus --install-completion``) from the
command tree, the environment variable ``_CHORUS_COMPLETE`` set (``preparse``);
``cli.py`` then builds the tree of the command on the line only, and ``install`` gives
its parameters their values here, in one place:

- a parameter typed as a choice (an Enum: ``--format``, ``--lang``, roles) completes
  its choices through Click, from its own type: a value added there appears by itself;
- a parameter of fixed values typed as plain text completes them from where the domain
  defines them (``FIXED``, ``BY_COMMAND``): statuses, kinds, levels, applications, id
  types, factors, on|off, languages; the domain's sentence still refuses a wrong one
  (exit 2, rule ID);
- a login or a structure identifier completes from the store (``STORE``): those the
  logged-in account may see (``domain/suggestions.py``, rights in ``authz``), by
  prefix, at most 50; anonymous, nothing;
- anything else is free text, a number, a secret or a file (``FREE``), completed by the
  shell itself (files) when chorus answers nothing.

Completion says nothing on stderr and never fails: a missing or locked store, no
session, any error gives no value (``quietly``); CHORUS_DEBUG=1 lets an error through.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from chorus_cli.ui import vendored_click

if TYPE_CHECKING:
    from chorus_cli.domain.catalogue import Application
    from chorus_cli.kernel.clock import Clock

# A value and the help zsh and fish show beside it ("" for none).
Values = Iterable[tuple[str, str]]
Completer = Callable[[Any, Any, str], list[Any]]


# --- fixed values, read where the domain defines them ---------------------------------


def _plain(values: Iterable[str]) -> Values:
    return ((value, "") for value in values)


def _apps(apps: Iterable[Application]) -> Values:
    return ((app.code, app.name) for app in apps)


def _id_types() -> Values:
    from chorus_cli.domain.identifiers import TYPES

    return _plain(TYPES)


def _account_statuses() -> Values:
    from chorus_cli.domain.accounts import STATUSES

    return _plain(STATUSES)


def _structure_statuses() -> Values:
    from chorus_cli.domain.structures import STATUSES

    return _plain(STATUSES)


def _levels() -> Values:
    from chorus_cli.domain.catalogue import LEVELS

    return _plain(LEVELS)


def _applications() -> Values:
    from chorus_cli.domain.catalogue import CATALOGUE

    return _apps(CATALOGUE)


def _notifying() -> Values:
    from chorus_cli.domain.catalogue import NOTIFYING

    return _apps(NOTIFYING)


def _methods() -> Values:
    from chorus_cli.domain.factors import METHODS

    return _plain(METHODS)


def _switch() -> Values:
    from chorus_cli.domain.preferences import SWITCH

    return _plain(SWITCH)


def _languages() -> Values:
    from chorus_cli.domain.preferences import LANGUAGES

    return _plain(LANGUAGES)


def _import_kinds() -> Values:
    from chorus_cli.bulk.columns import KINDS

    return _plain(KINDS)


def _export_kinds() -> Values:
    from chorus_cli.bulk.export import KINDS

    return _plain(KINDS)


def _export_formats() -> Values:
    from chorus_cli.bulk.export import FORMATS

    return _plain(FORMATS)


def fixed(values: Callable[[], Values]) -> Completer:
    """The values beginning with what was typed, any case, in the domain's order."""

    def complete(ctx: Any, param: Any, incomplete: str) -> list[Any]:
        typed = incomplete.casefold()
        return [
            vendored_click.CompletionItem(value, help=help_text or None)
            for value, help_text in values()
            if value.casefold().startswith(typed)
        ]

    return complete


# --- values from the store, as the logged-in account sees them ------------------------

# The line being completed: its clock (tests and the demo inject one), its --db.
_line: dict[str, Any] = {}


def stored(ask: str) -> Completer:
    """The values of ``domain.suggestions.<ask>`` (imported when Tab is pressed) for the
    account logged in to the store of the line (``--db`` anywhere on it, else
    CHORUS_DATABASE_URL, else the default store); none without a session."""

    def complete(ctx: Any, param: Any, incomplete: str) -> list[Any]:
        from chorus_cli.config import Settings
        from chorus_cli.store import keychain

        settings = Settings.from_env(_line.get("db"))
        token = keychain.peek("session", settings.database_url)
        if not token:
            return []  # anonymous: nothing from the store
        from chorus_cli.domain import auth, suggestions
        from chorus_cli.kernel.clock import SystemClock
        from chorus_cli.store.glance import Glance

        try:
            with Glance(settings, _line.get("clock") or SystemClock()) as uow:
                actor, _session = auth.signed_in(uow, token)
                found = getattr(suggestions, ask)(uow, actor, incomplete)
        except Exception as exc:  # no store, locked, expired session: nothing, said nowhere
            if os.environ.get("CHORUS_DEBUG") and not _expected(exc):
                raise
            return []
        return [vendored_click.CompletionItem(value) for value in found]

    return complete


def _expected(exc: Exception) -> bool:
    """A store that cannot be read now, or no valid session: no value, not a bug."""
    from sqlalchemy.exc import DBAPIError

    from chorus_cli.kernel.errors import ChorusError
    from chorus_cli.store.glance import Unavailable

    return isinstance(exc, ChorusError | Unavailable | DBAPIError | OSError)


# --- which parameter completes what ---------------------------------------------------

LOGINS = stored("logins")
STRUCTURES = stored("structure_identifiers")
TECHNICAL_LOGINS = stored("technical_logins")

# By the parameter's name on the command line (an option's longest name, an argument's
# name), in every command that has it.
FIXED: dict[str, Completer] = {
    "--id-type": fixed(_id_types),
    "--level": fixed(_levels),
    "--app": fixed(_applications),
    "--application": fixed(_applications),
    "--on": fixed(_notifying),
    "--off": fixed(_notifying),
    "--method": fixed(_methods),
    "--accessibility": fixed(_switch),
    "--surveys": fixed(_switch),
    "--service-code-required": fixed(_switch),
    "--engagement-number-required": fixed(_switch),
    "--language": fixed(_languages),
    "--kind": fixed(_import_kinds),
}
STORE: dict[str, Completer] = {
    "email": LOGINS,
    "--account": LOGINS,
    "--successor": LOGINS,
    "--actor": LOGINS,
    "--target": LOGINS,
    "structure": STRUCTURES,
    "--structure": STRUCTURES,
}
# Where one command gives a name another meaning: (command path, name).
BY_COMMAND: dict[tuple[str, str], Completer] = {
    # Statuses differ by listing: a new listing's --status must say its own.
    ("account list", "--status"): fixed(_account_statuses),
    ("structure members", "--status"): fixed(_account_statuses),
    ("structure list", "--status"): fixed(_structure_statuses),
    ("bulk export", "kind"): fixed(_export_kinds),
    ("bulk export", "--format"): fixed(_export_formats),
    ("mail list", "--to"): LOGINS,
    ("structure transfer-primary", "--to"): LOGINS,
    ("account technical reset-password", "login"): TECHNICAL_LOGINS,
    ("account technical delete", "login"): TECHNICAL_LOGINS,
}
# Plain-text parameters with nothing to offer: free text, a new value, a secret, a
# code, a date, a number, a URL, or a file (which the shell completes).
FREE = frozenset(
    {
        # text and new values
        "--email", "--first-name", "--last-name", "--phone", "--contact-email",
        "--workplace-address", "--biography", "--reason", "--comment", "--label",
        "--raison-sociale", "--id", "--name", "--search", "--profile", "--action",
        "--since", "--department", "--service", "--code", "--url", "--to", "--db",
        "--departments",  # département codes, comma-separated
        "--fields",  # field names, comma-separated: the command says the valid ones
        "new_email", "text", "siret", "code", "link",
        "name", "client",  # an API client's new name; one to remove (admins: api client list)
        # files
        "file", "path", "establishments", "--unites-legales", "--output",
        "--sheet",  # a workbook's sheet name: the file is not read to complete it
        # chorus serve: an address, numbers, PEM files
        "--host", "--port", "--rate", "--tls-cert", "--tls-key",
    }
)  # fmt: skip


def name(param: Any) -> str:
    """A parameter's name on the command line: an option's longest, an argument's own."""
    opts = getattr(param, "opts", None)
    if param.param_type_name == "option" and opts:
        return max(opts, key=len)
    return str(param.name)


def completer(path: str, param: Any) -> Completer | None:
    """What completes the parameter of the command at ``path`` (``structure list``)
    when its type does not (a choice completes itself); None: free text."""
    key = name(param)
    if getattr(param.type, "choices", None):
        return None
    if (path, key) in BY_COMMAND:
        return BY_COMMAND[path, key]
    if key in FIXED:
        return FIXED[key]
    if key in STORE:
        return STORE[key]
    return None


def walk(command: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(command path, command, parameter) for every parameter of the tree."""
    for param in command.params:
        yield path, command, param
    for sub_name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, f"{path} {sub_name}".strip())


def install(command: Any) -> None:
    """Give every parameter of the tree its values (called by ``cli`` once per tree)."""
    for path, _command, param in walk(command):
        found = completer(path, param)
        if found is not None:
            vendored_click.set_completer(param, found)


# --- running a completion ---------------------------------------------------------------


def words(instruction: str, complete_var: str) -> list[str]:
    """The words of the line before the one being completed, the program's left out,
    as the shell of ``instruction`` (``complete_bash``…) gives them in the environment;
    none when the shell asks for something else (``source_bash``: the script)."""
    asked, _sep, shell = instruction.partition("_")
    if asked != "complete":
        return []
    return vendored_click.completion_args(shell, complete_var) or []


@contextmanager
def quietly() -> Iterator[None]:
    """Nothing on stderr, and an error ends the completion with no value (exit 1)."""
    import io
    from contextlib import redirect_stderr

    from chorus_cli.store import notes

    try:
        with redirect_stderr(io.StringIO()):
            yield
    except Exception:
        if os.environ.get("CHORUS_DEBUG"):
            raise
        sys.exit(1)
    finally:
        notes.drain()  # what the store noted is for a command to say


def run(command: Any, clock: Clock | None, db: str | None) -> None:
    """Answer the shell from ``command``'s tree (``install``-ed), for the line's clock
    and ``--db``; exits."""
    _line.update(clock=clock, db=db)
    try:
        command.main(args=[], prog_name="chorus", standalone_mode=False)
    finally:
        _line.clear()
