"""``--dry-run`` on every command that changes the store (OUT-5), added in one place.

``offer(app)`` walks the tree ``cli.make_app`` builds and gives every command the same
``--dry-run`` option, except those declared here as reading only (``READ_ONLY``): a new
command changes the store until said otherwise. The option runs the whole command
inside ``store.rehearsal.rehearse()`` (``STATE.dry_run`` tells it): every unit of work
it opens is rolled back whatever it commits, the keychain keeps and removes nothing,
and no mail goes to SMTP. On stderr: a header («nothing was saved»), then the audit rows (every
change is audited, OPS-4) and the mails the real run would have committed; stdout is
what the real run prints, and the exit code is the real run's.

`bulk import` and `notify weekly` had their own ``--dry-run`` first: they read
``STATE.dry_run`` and say what they would do themselves (``OWN_REPORT``). A dry `batch`
runs all its lines in one unit of work (as ``--atomic``), rolled back at the end; a dry
line of an ``--atomic`` batch runs in a savepoint of the batch's, rolled back alone.
Refused (exit 2, ``NOT_SIMULATED``): the commands whose changes are not made in a unit
of work. In a dry run at a terminal, a prompt after a step the real run would have
committed is refused (SEC-4: the dry run's transaction is still open).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from chorus_cli.commands._common import STATE

if TYPE_CHECKING:
    from chorus_cli.store.uow import Rehearsal

DryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Run the command and roll it back: say what would change and which mails"
        " would go; save nothing (OUT-5).",
    ),
]

# Commands that change nothing in the store (their session's last activity aside).
READ_ONLY = frozenset(
    {
        "whoami",
        "demo",  # runs in a temporary store of its own
        "account show",
        "account history",
        "account list",
        "account technical list",
        "api client list",
        "mfa list",
        "mfa key list",
        "admin roles",
        "structure list",
        "structure show",
        "structure search",
        "structure pending",
        "structure members",
        "structure service list",
        "attach pending",
        "attach list",
        "habil catalogue",
        "habil list",
        "mail list",
        "mail show",
        "audit list",
        "sirene lookup",
        "sirene search",
        "bulk export",
        "login-address status",
        "db backup",  # writes the file it is given, reads the store
    }
)
# Commands whose changes are not made in a unit of work, refused with --dry-run (exit 2).
NOT_SIMULATED = {
    "db upgrade": "out5.reason.migrations",
    "db copy": "out5.reason.other_store",
    "sirene import": "out5.reason.sirene_index",
    "sirene update": "out5.reason.sirene_update",
    "serve": "out5.reason.serve",
}
# Commands that say themselves what a dry run would do (their --dry-run came first).
OWN_REPORT = frozenset({"bulk import", "notify weekly"})
# At most this many changes and mails are listed; the rest are counted.
SHOWN = 20


def offer(app: typer.Typer, path: tuple[str, ...] = ()) -> None:
    """Give every command of ``app`` that may change the store the ``--dry-run`` option."""
    for info in app.registered_commands:
        name = info.name or command_name(info.callback)
        full = " ".join((*path, name))
        if full not in READ_ONLY and info.callback is not None:
            info.callback = _with_option(info.callback, full)
    for group in app.registered_groups:
        sub = group.typer_instance
        if sub is not None:
            offer(sub, (*path, group.name or sub.info.name or ""))


def command_name(callback: Callable[..., Any] | None) -> str:
    """The name Typer gives a command registered without one."""
    return (callback.__name__ if callback else "").lower().replace("_", "-")


def _with_option(command: Callable[..., Any], path: str) -> Callable[..., Any]:
    """``command`` with a ``dry_run`` keyword more; the same function once wrapped."""
    if getattr(command, "chorus_dry_run", None) is not None:
        return command

    @functools.wraps(command)
    def run(*args: Any, dry_run: bool = False, **kwargs: Any) -> Any:
        if not dry_run and not STATE.dry_run:
            return command(*args, **kwargs)
        return _rehearse(path, command, args, kwargs)

    signature = inspect.signature(command, eval_str=True)
    option = inspect.Parameter(
        "dry_run", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=DryRunOpt
    )
    run.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), option]
    )
    run.__annotations__ = {
        **{p.name: p.annotation for p in signature.parameters.values()},
        "dry_run": DryRunOpt,
    }
    run.chorus_dry_run = path  # type: ignore[attr-defined]
    return run


def _rehearse(path: str, command: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    from chorus_cli.store.rehearsal import rehearse, rehearsing

    if path in NOT_SIMULATED:
        from chorus_cli.i18n import message
        from chorus_cli.kernel.errors import BadInput

        raise BadInput("out5.not_simulated", command=path, reason=message(NOT_SIMULATED[path]))
    if rehearsing() is not None:  # a line of a dry batch: the batch reports
        return command(*args, **kwargs)
    with rehearse() as rehearsal:
        try:
            if STATE.shared is None:
                return command(*args, **kwargs)
            # A line of an --atomic batch: its work in a savepoint of the batch's
            # unit of work, rolled back (OPS-6's batch commits the other lines).
            with STATE.shared.rehearsed_step(rehearsal):
                return command(*args, **kwargs)
        finally:
            if path not in OWN_REPORT:
                report(rehearsal)


def report(rehearsal: Rehearsal) -> None:
    """On stderr: nothing was saved, then what would have been and the mails that
    would have gone (recipient and subject)."""
    from chorus_cli.ui.output import say

    say("out5.header")
    if not (rehearsal.changes or rehearsal.mails or rehearsal.delivered):
        say("out5.nothing")
    _listed(
        [("out5.change", {"action": a, "target": t, "actor": w}) for w, a, t in rehearsal.changes]
    )
    _listed([("out5.mail", {"to": to, "subject": s}) for to, s in rehearsal.mails])
    _listed([("out5.delivered", {"to": to, "subject": s}) for to, s in rehearsal.delivered])


def _listed(lines: list[tuple[str, dict[str, str]]]) -> None:
    from chorus_cli.ui.output import say

    for key, params in lines[:SHOWN]:
        say(key, **params)
    if len(lines) > SHOWN:
        say("out5.more", count=len(lines) - SHOWN)
