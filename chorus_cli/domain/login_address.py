"""Changing the address one logs in with (LA-1..4, SEC-5, guide 2.6 and 1.7.4).

A change is a mailed link (``link_token`` of purpose ``login_address``, the new address
as its payload) valid 24 hours: pending while unused and unexpired, one at a time.
Confirming it switches the login, mails a notice to the old address and ends the other
sessions. Support and admins may start the change for a user who lost their mailbox
(LA-4): the link still goes to the new address, so only its owner can confirm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chorus_cli.domain import accounts, links, notices, sessions, throttle
from chorus_cli.kernel.errors import BadInput, RuleRefused

if TYPE_CHECKING:
    from chorus_cli.store.models import Account
    from chorus_cli.store.shown import ShownAccount
    from chorus_cli.store.uow import UnitOfWork

PURPOSE = "login_address"
LINK_TTL = timedelta(hours=24)


# ``Change.view``'s fields, then the change's status, as the commands show it (OUT-3).
VIEW_FIELDS = ("login_email", "new_email", "requested_at", "expires_at")
STATUS_FIELDS = (*VIEW_FIELDS, "status")


@dataclass
class Change:
    """A pending change: the account (by its current login), the new address, until when."""

    login_email: str
    new_email: str
    requested_at: datetime
    expires_at: datetime

    def view(self) -> dict[str, Any]:  # VIEW_FIELDS
        from chorus_cli.kernel.clock import iso

        return {
            "login_email": self.login_email,
            "new_email": self.new_email,
            "requested_at": iso(self.requested_at),
            "expires_at": iso(self.expires_at),
        }


def target(
    uow: UnitOfWork, actor: Account, account_email: str | None = None, *, reading: bool = False
) -> Account:
    """The account whose address changes: the actor's own, or with ``account_email``
    another one, for support and admins only (LA-4; anyone else: exit 4); changing (not
    ``reading``) that of a platform role holder, for admins only (PUB-1)."""
    from chorus_cli.domain import authz

    if account_email is None:
        return actor
    authz.require_role(uow, actor, *authz.SUPPORT)
    account = accounts.get(uow, account_email)
    if not reading:
        authz.require_access_keeper(uow, actor, account, "la4.admin_only")
    return account


def _pending_row(uow: UnitOfWork, account: ShownAccount) -> Any:
    """The newest unused, unexpired link of a change (its payload, created_at,
    expires_at), or None.

    A plain SQL read, as ``membership.memberships``: ``account show`` asks it every time,
    and defining the link table's class would cost it more than the query itself. What
    the session has not written yet is flushed first, as the ORM's own query would."""
    from sqlalchemy import DateTime, String, bindparam, text

    uow.session.flush()
    query = (
        text(
            "SELECT payload, created_at, expires_at FROM link_token"
            " WHERE account_id = :account AND purpose = :purpose AND used_at IS NULL"
            " AND expires_at > :now ORDER BY id DESC LIMIT 1"
        )
        .bindparams(bindparam("now", type_=DateTime()))
        .columns(payload=String(), created_at=DateTime(), expires_at=DateTime())
    )
    params = {"account": account.id, "purpose": PURPOSE, "now": uow.clock.now()}
    return uow.session.connection().execute(query, params).first()


def pending(uow: UnitOfWork, account: ShownAccount) -> Change | None:
    """The change under way, if any; it lapses 24 hours after it was asked (LA-2)."""
    row = _pending_row(uow, account)
    if row is None:
        return None
    return Change(account.login_email, row.payload or "", row.created_at, row.expires_at)


def ready(uow: UnitOfWork, actor: Account, account_email: str | None = None) -> Account:
    """What can be refused before anyone types a password: rights, the account, a change
    already under way (LA-2)."""
    account = target(uow, actor, account_email)
    if account.status == "deactivated":
        raise RuleRefused("acc.deactivated")
    if account.status == "suspended":
        raise RuleRefused("mem4.account_suspended", email=account.login_email)
    under_way = pending(uow, account)
    if under_way is not None:
        raise RuleRefused("la2.pending", new=under_way.new_email, until=_when(under_way.expires_at))
    return account


def request(
    uow: UnitOfWork,
    actor: Account,
    password: str,
    new_email: str,
    confirmation: str,
    account_email: str | None = None,
) -> Change:
    """Ask to change a login address (LA-1..4): the actor's password again (SEC-5), the
    new address typed twice, not the current one, not another account's (LA-3); a link
    valid 24 hours goes to the new address. Support's changes are audited with both
    addresses (LA-4)."""
    from chorus_cli.domain.factors import common

    account = ready(uow, actor, account_email)
    common.reauthenticate(uow, actor, password, "sec5.password_wrong")
    new = accounts.normalise_email(new_email, "new_login_email")
    if accounts.normalise_email(confirmation or "", "new_login_email") != new:
        raise BadInput("la1.mismatch")
    if new == account.login_email:
        raise BadInput("la1.same", email=new)
    if accounts.find(uow, new) is not None:
        raise RuleRefused("la3.taken", email=new)
    throttle.spend(uow, new)  # ACC-7: a mail goes to that address
    link = links.issue(uow, account, PURPOSE, LINK_TTL, payload=new)
    notices.notify(uow, account, "login_address_link", to=new, link=link, new_email=new)
    support = {"support": True} if actor.id != account.id else {}
    uow.audit(
        actor.login_email,
        "login_address.request",
        account.login_email,
        old=account.login_email,
        new=new,
        **support,
    )
    now = uow.clock.now()
    return Change(account.login_email, new, now, now + LINK_TTL)


def confirm(uow: UnitOfWork, link: str, keep_session: int | None = None) -> Change:
    """Follow the mailed link (whole or its token): the login becomes the new address,
    a notice goes to the old one, every other session ends (LA-1). The contact address
    follows when it was the login address (its default, ACC-1): notices must not keep
    going to a mailbox the user left or lost (guide 1.7.4). Used, unknown or lapsed
    links: exit 6."""
    from sqlalchemy.exc import IntegrityError

    from chorus_cli.store.models import Account, AuthSession

    token = links.consume(uow, link, (PURPOSE,))
    account = uow.session.get(Account, token.account_id)
    if account.status == "deactivated":
        raise RuleRefused("acc.deactivated")
    if account.status == "suspended":
        raise RuleRefused("mem4.account_suspended", email=account.login_email)
    new, old = token.payload or "", account.login_email
    if accounts.find(uow, new) is not None:
        raise RuleRefused("la3.taken", email=new)
    account.login_email = new
    if account.contact_email == old:
        account.contact_email = new
    uow.add(account)
    try:
        uow.session.flush()
    except IntegrityError:  # another account took the address a moment ago
        raise RuleRefused("la3.taken", email=new) from None
    kept = uow.session.get(AuthSession, keep_session) if keep_session else None
    sessions.end_sessions(
        uow, account, keep=kept.id if kept and kept.account_id == account.id else None
    )
    notices.notify(uow, account, "login_address_changed", to=old, old=old, new=new)
    uow.audit(new, "login_address.confirm", new, old=old, new=new)
    return Change(new, new, token.created_at, token.expires_at)


def cancel(uow: UnitOfWork, actor: Account, account_email: str | None = None) -> Change | None:
    """Drop the change under way (the link stops working); None when there was none."""
    account = target(uow, actor, account_email)
    under_way = pending(uow, account)
    if under_way is None:
        return None
    links.void(uow, account, (PURPOSE,))
    uow.audit(
        actor.login_email,
        "login_address.cancel",
        account.login_email,
        old=account.login_email,
        new=under_way.new_email,
    )
    return under_way


def status(uow: UnitOfWork, actor: Account, account_email: str | None = None) -> Change | None:
    return pending(uow, target(uow, actor, account_email, reading=True))


def _when(moment: datetime) -> str:
    from chorus_cli.kernel.clock import iso

    return iso(moment) or ""
