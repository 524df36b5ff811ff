"""What shell completion offers from the store (OUT-6): the logins and the structure
identifiers that begin with what was typed, among those the actor may see, in order, at
most ``LIMIT``. Who sees what is ``authz``'s (``seen_accounts``: MEM-3 and SEC-11;
``findable_structures``: STR-9) or the listing's (``technical.listing``: TECH-2);
nothing here decides it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chorus_cli.domain import authz

if TYPE_CHECKING:
    from chorus_cli.store.shown import ShownAccount
    from chorus_cli.store.uow import UnitOfWork

LIMIT = 50
# Above every character: ``typed <= value < typed + TOP`` holds for the values that
# begin with ``typed`` (SQLite compares bytes: an index serves the range, PERFORMANCE.md).
TOP = "\U0010ffff"


def _beginning(uow: UnitOfWork, column: Any, typed: str, seen: Any, limit: int | None) -> list[str]:
    """The values of ``column`` that begin with ``typed`` in the rows ``seen`` (a SQL
    condition of ``authz``), each once, in order, ``LIMIT`` unless ``limit``. On SQLite
    the prefix is also a range an index answers (its LIKE ignores case and no index)."""
    from sqlmodel import and_, select

    begins = column.startswith(typed, autoescape=True)  # LIKE, its % and _ escaped
    if uow.session.get_bind().dialect.name == "sqlite":
        begins = and_(column >= typed, column < typed + TOP, begins)
    query = select(column).where(begins, seen).distinct().order_by(column)
    return list(uow.session.exec(query.limit(limit or LIMIT)).all())


def logins(uow: UnitOfWork, actor: ShownAccount, typed: str, limit: int | None = None) -> list[str]:
    """The login addresses beginning with ``typed`` (any case) of the accounts the actor
    sees whole (MEM-3)."""
    from chorus_cli.store import plain

    account = plain.account()  # no model defined: a key press costs no more than a command
    seen = authz.seen_accounts(uow, actor, account)
    return _beginning(uow, account.c.login_email, typed.strip().lower(), seen, limit)


def structure_identifiers(
    uow: UnitOfWork, actor: ShownAccount, typed: str, limit: int | None = None
) -> list[str]:
    """The identifiers beginning with ``typed`` (any case) of the structures the actor
    finds (STR-9), each once (two types may share one, STR-1)."""
    from chorus_cli.store import plain

    structure = plain.structure()
    findable = authz.findable_structures(uow, actor, structure)
    return _beginning(uow, structure.c.identifier, typed.strip().upper(), findable, limit)


def technical_logins(
    uow: UnitOfWork, actor: ShownAccount, typed: str, limit: int | None = None
) -> list[str]:
    """The technical logins beginning with ``typed`` (any case) that ``account technical
    list`` shows the actor (TECH-2, ``technical.listing``)."""
    from chorus_cli.domain import technical
    from chorus_cli.store.listing import Window

    folded = typed.strip().casefold()
    rows = technical.listing(uow, actor, shown=Window(None, 0)).rows
    found = [r["login"] for r in rows if r["login"].casefold().startswith(folded)]
    return found[: limit or LIMIT]
