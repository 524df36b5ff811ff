"""What every command shares: the root context, output options, the unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from chorus_cli.config import Settings
    from chorus_cli.kernel.clock import Clock
    from chorus_cli.mail.outbox import Delivery
    from chorus_cli.store.account_record import AccountRecord
    from chorus_cli.store.models import Account
    from chorus_cli.store.shown import ShownAccount
    from chorus_cli.store.uow import UnitOfWork

# An account as a command holds it: the ORM row, or a record read to show it.
A = TypeVar("A", bound="ShownAccount")


@dataclass
class AppContext:
    db: str | None = None
    lang: str | None = None
    clock: Clock | None = None
    _settings: Settings | None = field(default=None, repr=False)
    # `chorus batch --atomic`: the one unit of work every line of the batch shares.
    shared: UnitOfWork | None = field(default=None, repr=False)

    @property
    def dry_run(self) -> bool:
        """OUT-5: the command runs with --dry-run (commands/_dry_run.py), nothing is
        kept: the dry run the store notes (``store.rehearsal``), the one flag."""
        from chorus_cli.store.rehearsal import rehearsing

        return rehearsing() is not None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from chorus_cli.config import Settings

            self._settings = Settings.from_env(self.db, self.lang)
        return self._settings


# Tests and the demo inject a clock here; commands read it through ``unit_of_work``.
STATE = AppContext()

# The function that runs one chorus command line, ``chorus_cli.cli.main``. The root hands
# it down the command tree (Click's ``ctx.obj``) to the commands that run command lines
# themselves, ``chorus batch`` and ``chorus demo``: nothing below the root imports it.
EntryPoint = Callable[[list[str]], None]


def entry_point(ctx: typer.Context) -> EntryPoint:
    """The entry point the root was run by (see ``cli._run``)."""
    entry = ctx.find_root().obj
    if not callable(entry):
        raise RuntimeError("chorus: the command tree was run without its entry point")
    return entry


def new_group(name: str, help_text: str) -> typer.Typer:
    """Every group gets the same settings."""
    return typer.Typer(
        name=name,
        help=help_text,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    jsonl = "jsonl"  # one JSON object a line (OUT-3)


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Shorthand for --format json.")]
# Every command that names a structure takes the same option (STR-1).
IdTypeOpt = Annotated[
    str | None,
    typer.Option("--id-type", metavar="TYPE", help="Only when two types share the identifier."),
]
# Every listing pages the same way (OUT-2): ``_shaping.add_window`` gives it the three.
LimitOpt = Annotated[
    int | None,
    typer.Option("--limit", min=1, max=10_000, help="At most N rows (default 100, up to 10,000)."),
]
OffsetOpt = Annotated[int, typer.Option("--offset", min=0, help="Skip the first N rows.")]
AllOpt = Annotated[bool, typer.Option("--all", help="Every row, however many (OUT-2).")]
# An account's status as a listing's filter (account list, structure members).
AccountStatusOpt = Annotated[
    str | None, typer.Option("--status", help="pending|active|locked|deactivated|suspended.")
]
PasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first stdin line.")
]


def output_format(fmt: Format | str, as_json: bool) -> str:
    return "json" if as_json else Format(fmt).value


def data_fields(
    names: tuple[str, ...] | list[str] | str,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the fields a command shows (every row's, or its record's): ``--fields``
    is checked against them before the command runs (OUT-3), so that nothing is changed
    for an output then refused, and they are the header of an empty CSV
    (``ui.output.emit``). ``names``: the fields, or ``"module:NAME"`` naming where the
    rows are built: a tuple of fields kept beside the function that builds them, the
    dataclass a summary is made from (its fields), or a function giving them. The
    module is imported only when the command runs (``fields_declared``): start-up
    stays as light, and there is no second list to drift."""

    def declared(command: Callable[..., Any]) -> Callable[..., Any]:
        fields = names if isinstance(names, str) else tuple(names)
        command.chorus_fields = fields  # type: ignore[attr-defined]
        return command

    return declared


def fields_declared(command: Callable[..., Any]) -> tuple[str, ...] | None:
    """The fields ``command`` declares (``data_fields``), its ``"module:NAME"`` read."""
    names = getattr(command, "chorus_fields", None)
    if not isinstance(names, str):
        return names
    import dataclasses
    from importlib import import_module

    module, _, name = names.partition(":")
    source = getattr(import_module(module), name)
    if dataclasses.is_dataclass(source):
        return tuple(f.name for f in dataclasses.fields(source))
    return tuple(source() if callable(source) else source)


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """A unit of work on the configured store, with the injected clock."""
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store.uow import UnitOfWork

    if STATE.shared is not None:  # a line of an atomic batch: the batch commits, once
        yield STATE.shared
        return
    settings = STATE.settings
    uow = UnitOfWork(settings, STATE.clock or SystemClock())
    try:
        with uow:
            yield uow
    finally:
        # Also when the command failed after a commit (a lockout's notice): what was
        # committed goes out; the error is said after it.
        deliver_mail(settings, uow.committed_mail)


def deliver_mail(settings: Settings, queued: int) -> None:
    """After a command that queued mail, hand the outbox to SMTP when it is configured:
    its own mails, and the others whose next attempt is due (SEC-8). A command that
    queued none delivers nothing. The command is committed by now: whatever happens
    here is said as a warning that names what was saved (SEC-12), never as a failure."""
    if not settings.smtp_url or not queued or STATE.dry_run:
        return
    import sys

    from chorus_cli.i18n import message
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.kernel.errors import ChorusError
    from chorus_cli.mail.outbox import deliver, target
    from chorus_cli.store.uow import UnitOfWork
    from chorus_cli.ui.output import say

    try:
        with UnitOfWork(settings, STATE.clock or SystemClock()) as uow:
            done = deliver(uow, target(settings.smtp_url))
    except ChorusError as exc:
        say("sec12.saved_mail_pending", reason=message(exc.key, **exc.params))
        return
    except Exception as exc:  # noqa: BLE001 - the command's work is saved: say so, whatever failed
        import os

        if os.environ.get("CHORUS_DEBUG"):
            import traceback

            traceback.print_exc(file=sys.stderr)
        say("sec12.saved_mail_pending", reason=f"{type(exc).__name__}: {exc}")
        return
    report_delivery(done, waiting=False)


def report_delivery(done: Delivery, waiting: bool = True) -> None:
    """What a delivery left undone, on stderr (SEC-8): the mails tried again later and
    when, those the server refused for good; with ``waiting``, those not due yet."""
    from chorus_cli.kernel.clock import iso
    from chorus_cli.ui.output import say

    if done.retrying:
        say(
            "sec8.mail_retrying",
            count=len(done.retrying),
            reason=done.retrying[0][1],
            at=iso(done.next_at),
        )
    if done.refused:
        say(
            "sec8.mail_refused",
            count=len(done.refused),
            id=done.refused[0][0],
            reason=done.refused[0][1],
        )
    if waiting and done.waiting and not done.retrying:
        say("sec8.mail_waiting", count=done.waiting, at=iso(done.next_at))


def session_token() -> str | None:
    from chorus_cli.store import keychain

    return keychain.get("session", STATE.settings.database_url)


def current_account(uow: UnitOfWork) -> Account:
    """The logged-in account; sets the message language to its preference (SPEC) and
    plain output when it chose accessibility (SET-5), for the rest of the command."""
    from chorus_cli.domain import auth

    return _speaking_to(uow, auth.authenticate(uow, session_token()))


def _speaking_to(uow: UnitOfWork, account: A) -> A:
    from chorus_cli.i18n import set_lang
    from chorus_cli.ui.output import set_plain

    set_lang(uow.lang)
    set_plain(account.accessibility)
    return account


@contextmanager
def _logged_in(find: Callable[[UnitOfWork], A]) -> Iterator[tuple[UnitOfWork, A]]:
    with unit_of_work() as uow:
        account = find(uow)
        yield uow, account
        uow.commit()


def as_account() -> AbstractContextManager[tuple[UnitOfWork, Account]]:
    """``with as_account() as (uow, account): <one domain call>``: a unit of work for
    the logged-in account, committed when the block ends without an error."""
    return _logged_in(current_account)


def showing_account() -> AbstractContextManager[tuple[UnitOfWork, AccountRecord]]:
    """``as_account`` for a command that only shows the account (whoami, account show):
    read as a record (``store.account_record``), no ORM class loaded; committed all the
    same: the session's last use slides (AUTH-3)."""
    from chorus_cli.domain import auth

    return _logged_in(
        lambda uow: _speaking_to(uow, auth.authenticate_to_show(uow, session_token()))
    )
