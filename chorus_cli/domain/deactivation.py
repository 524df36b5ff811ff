"""Deactivating and reactivating one's own account (SET-4, guide 2.2.4).

A deactivated account cannot log in (AUTH-4) and keeps its data; a primary manager
first hands the role over (STR-8). Reactivation is a log-in that proves the password and
a second factor: it goes through ``auth.check_password``/``auth.check_second_factor``
with the purpose ``reactivate``, so wrong codes count toward the lockout exactly as at
log-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chorus_cli.domain import links, notices, sessions
from chorus_cli.kernel.errors import RuleRefused

if TYPE_CHECKING:
    from chorus_cli.store.models import Account
    from chorus_cli.store.uow import UnitOfWork


@dataclass
class Deactivation:
    account: Account
    attached: list[str]  # identifiers of the structures the account stays attached to


def _other_active_admins(uow: UnitOfWork, account: Account) -> int:
    from sqlmodel import col, func, select

    from chorus_cli.store.models import Account as AccountRow
    from chorus_cli.store.models import RoleGrant

    return uow.session.exec(
        select(func.count(func.distinct(RoleGrant.account_id)))
        .join(AccountRow, col(AccountRow.id) == col(RoleGrant.account_id))
        .where(col(RoleGrant.role) == "admin")
        .where(col(AccountRow.status) == "active")
        .where(col(AccountRow.id) != account.id)
    ).one()


def check(uow: UnitOfWork, account: Account) -> Deactivation:
    """Whether the account may be deactivated now: not while a structure's primary
    manager (STR-8, exit 1), nor as the last active admin."""
    from chorus_cli.domain import authz, membership

    attached = membership.memberships(uow, account)
    primary = [m["identifier"] for m in attached if m["role"] == "primary"]
    if primary:
        raise RuleRefused("set4.primary_manager", email=account.login_email, ids=", ".join(primary))
    if authz.has_role(uow, account, "admin") and _other_active_admins(uow, account) == 0:
        raise RuleRefused("set4.last_admin", email=account.login_email)
    return Deactivation(account, [m["identifier"] for m in attached])


def deactivate(uow: UnitOfWork, account: Account) -> Deactivation:
    """Deactivate the account (checked again: a person may have answered slowly): every
    session ends, the links and log-ins under way die, a notice is mailed (SET-3)."""
    uow.session.refresh(account, with_for_update=True)
    if account.status != "active":
        raise RuleRefused("set4.not_active", email=account.login_email)
    done = check(uow, account)
    account.status = "deactivated"
    uow.add(account)
    close_access(uow, account)
    notices.notify(uow, account, "deactivated")
    uow.audit(account.login_email, "account.deactivate", account.login_email)
    return done


def reactivated(uow: UnitOfWork, account: Account) -> None:
    """The end of a reactivation whose password and second factor were proven."""
    if account.status != "deactivated":
        raise RuleRefused("set4.not_deactivated", email=account.login_email)
    account.status = "active"
    uow.add(account)
    notices.notify(uow, account, "reactivated")
    uow.audit(account.login_email, "account.reactivate", account.login_email)


def close_access(uow: UnitOfWork, account: Account) -> None:
    """Shut an account out at once (SET-4 deactivation, MEM-4 suspension): its sessions
    end, its unused links are void, and a log-in under way can no longer be completed."""
    from sqlmodel import col, update

    from chorus_cli.store.models import LoginChallenge

    sessions.end_sessions(uow, account)
    links.void(uow, account, ("activate", "reset", "login_address"))
    uow.session.exec(
        update(LoginChallenge)
        .where(col(LoginChallenge.account_id) == account.id)
        .where(col(LoginChallenge.completed_at).is_(None))
        .values(expires_at=uow.clock.now())
    )
