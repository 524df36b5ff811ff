"""Reading the audit log (OPS-4); rows are written by ``UnitOfWork.audit``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chorus_cli.kernel.clock import iso
from chorus_cli.kernel.errors import BadInput
from chorus_cli.store.listing import WINDOW, Page, Window, mapped, stream

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, AuditEntry
    from chorus_cli.store.uow import UnitOfWork


def parse_since(value: str) -> datetime:
    from datetime import UTC

    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadInput("audit.since_invalid", value=value) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:  # the store compares in UTC: 9999-12-31T23:59:59-14:00 is past year 9999 there
        return moment.astimezone(UTC)
    except OverflowError:
        raise BadInput("sec3.date_out_of_range", value=value) from None


def entries(
    uow: UnitOfWork,
    viewer: Account | None,
    *,
    actor: str | None = None,
    target: str | None = None,
    action: str | None = None,
    since: str | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Newest first; ``action`` matches a prefix (``account`` finds ``account.create``).

    Support and admins read the whole log; any other account, the entries where it is
    the actor or the target («its own activity»). ``viewer=None`` is the store itself.
    """
    query = _query(uow, viewer, actor, target, action, since)
    if limit:
        query = query.limit(limit)
    return list(uow.session.exec(query).all())


def listing(
    uow: UnitOfWork,
    viewer: Account | None,
    *,
    actor: str | None = None,
    target: str | None = None,
    action: str | None = None,
    since: str | None = None,
    shown: Window = WINDOW,
) -> Page:
    """``entries`` as ``chorus audit list`` shows them, the rows of ``shown`` (OUT-2);
    with ``--all`` they stream, each as ``view`` gives it, while the unit of work is open."""
    query = _query(uow, viewer, actor, target, action, since, as_rows=True)
    return mapped(stream(uow, query, shown), view)


def _query(
    uow: UnitOfWork,
    viewer: Account | None,
    actor: str | None,
    target: str | None,
    action: str | None,
    since: str | None,
    as_rows: bool = False,
) -> Any:
    """The entries asked for, newest first: as ``AuditEntry`` objects, or ``as_rows``
    (read by attribute alike, lighter)."""
    from sqlmodel import col, func, or_, select

    from chorus_cli.domain import authz
    from chorus_cli.store.listing import columns
    from chorus_cli.store.models import AuditEntry

    query = columns(AuditEntry) if as_rows else select(AuditEntry)
    query = query.order_by(col(AuditEntry.id).desc())
    if viewer is not None and not authz.reads_whole_audit(uow, viewer):
        me = viewer.login_email
        query = query.where(or_(col(AuditEntry.actor) == me, col(AuditEntry.target) == me))
    if actor:
        query = query.where(func.lower(col(AuditEntry.actor)) == actor.strip().lower())
    if target:
        query = query.where(func.lower(col(AuditEntry.target)) == target.strip().lower())
    if action:
        # Actions are lower-case dotted names. Lower-case the filter, and escape LIKE's
        # wildcards (``_`` is common in actions): otherwise SQLite (LIKE ignores case)
        # and PostgreSQL (LIKE does not) answer differently.
        action = action.strip().lower()
        query = query.where(
            (col(AuditEntry.action) == action)
            | col(AuditEntry.action).startswith(action + ".", autoescape=True)
        )
    if since:
        query = query.where(col(AuditEntry.at) >= parse_since(since))
    return query


# The fields of ``view``, in its order (`audit list`, OUT-3), an empty CSV's header.
AUDIT_FIELDS = ("id", "at", "actor", "action", "target", "details")


def view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": iso(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "details": entry.details,
    }
