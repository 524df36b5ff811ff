"""Support's view of an account, and suspending it (MEM-3, MEM-4).

**Seeing another account** (MEM-3): support and admins see every account; a
correspondent, the accounts within her scope (SEC-11's one definition); a manager
(«Organisation modification») the accounts attached to a structure she manages. Anyone
else is refused (exit 4), and an account that does not exist is refused the same way to
anyone who may not see every account: the answer never tells them whether it exists.

**Suspending** (MEM-4): support or admin, or a correspondent for an account within her
scope (which holds no platform role, SEC-11). A support agent cannot suspend an admin,
and nobody suspends their own account (SET-4's deactivation is for that). A suspended
account cannot log in (AUTH-4, with its own sentence once the password is proven), its
sessions end at once, its links and log-ins under way die; the status it had is kept,
and `restore` gives it back (pending, active or deactivated). A notice is mailed each
way (SET-3), and the reason is audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chorus_cli.domain import accounts, authz, notices
from chorus_cli.kernel import text
from chorus_cli.kernel.clock import iso
from chorus_cli.kernel.errors import BadInput, NotAllowed, RuleRefused

if TYPE_CHECKING:
    from chorus_cli.store.models import Account
    from chorus_cli.store.shown import ShownAccount
    from chorus_cli.store.uow import UnitOfWork

SUSPENDED = "suspended"
REASON_MAX = 500


# --- who may (MEM-3, MEM-4): the rights themselves are authz's ------------------------


def viewable(uow: UnitOfWork, actor: ShownAccount, email: str) -> Account:
    """The account ``email`` if the actor may see it whole (MEM-3); else NotAllowed
    (exit 4), also when it does not exist, except to support and admins (exit 3)."""
    if authz.has_role(uow, actor, *authz.SUPPORT):
        return accounts.get(uow, email)
    target = accounts.find(uow, email)
    if target is None or not authz.sees_account(uow, actor, target):
        raise NotAllowed("mem3.not_allowed", email=email.strip().lower())
    return target


def _keeper(uow: UnitOfWork, actor: Account, email: str) -> Account:
    """The account ``email`` if the actor may suspend or restore it (MEM-4)."""
    target = accounts.find(uow, email)
    authz.require_suspender(uow, actor, target, email)
    assert target is not None  # require_suspender refuses a missing account
    if target.id == actor.id:
        raise RuleRefused("mem4.own_account", email=target.login_email)
    return target


# --- MEM-3: the whole account ------------------------------------------------------------


# What ``details`` adds, in its order; ``show`` gives the account's view, then these.
DETAIL_FIELDS = (
    "last_login_at", "locked_until", "factors", "pending_login_change", "roles", "structures",
)  # fmt: skip
SHOW_FIELDS = (*accounts.VIEW_FIELDS, *DETAIL_FIELDS)


def details(uow: UnitOfWork, account: ShownAccount) -> dict[str, Any]:
    """What MEM-3 adds to an account's view: last log-in, lock end, second factors
    (never a secret), the login-address change under way; roles and structures as
    ``whoami`` gives them."""
    from chorus_cli.domain import login_address, membership, roles
    from chorus_cli.domain.factors import common

    change = login_address.pending(uow, account)
    locked = account.locked_until
    if locked is not None and locked <= uow.clock.now():
        locked = None
    return {
        "last_login_at": iso(account.last_login_at),
        "locked_until": iso(locked),
        "factors": [
            {
                "kind": row["type"],
                "name": row["name"],
                "added_at": row["created_at"],
                "last_used_at": row["last_used_at"],
            }
            for row in common.listing(uow, account)
        ],
        "pending_login_change": change.view() if change is not None else None,
        "roles": roles.describe(uow, account),
        "structures": membership.memberships(uow, account),
    }


def show(uow: UnitOfWork, actor: ShownAccount, email: str | None = None) -> dict[str, Any]:
    """`account show [EMAIL]`: one's own account, or another one for those MEM-3 lets
    see it; the same fields either way."""
    account = actor if email is None else viewable(uow, actor, email)
    return {**accounts.view(uow, account), **details(uow, account)}


# --- MEM-4: suspend and restore ----------------------------------------------------------


def _reason(reason: str | None) -> str:
    value = " ".join(text.check(reason or "", "reason", multiline=True).split())
    if not value:
        raise BadInput("mem4.reason_required")
    if len(value) > REASON_MAX:
        raise BadInput("field.too_long", field="reason", max=REASON_MAX)
    return value


def suspend(uow: UnitOfWork, actor: Account, email: str, reason: str) -> Account:
    """Suspend the account: it cannot log in, its sessions, links and log-ins under way
    end, the status it had is kept for `restore`; mailed and audited with the reason."""
    from chorus_cli.domain import deactivation  # here: `account show` needs none of it

    reason = _reason(reason)
    target = _keeper(uow, actor, email)
    uow.session.refresh(target, with_for_update=True)
    if target.status == SUSPENDED:
        raise RuleRefused("mem4.already_suspended", email=target.login_email)
    former = target.status
    target.suspended_from = former
    target.status = SUSPENDED
    uow.add(target)
    deactivation.close_access(uow, target)
    notices.notify(uow, target, "suspended", reason=reason)
    uow.audit(
        actor.login_email, "account.suspend", target.login_email, reason=reason, former=former
    )
    return target


def restore(uow: UnitOfWork, actor: Account, email: str) -> Account:
    """Give a suspended account back the status it had (MEM-4); mailed and audited."""
    target = _keeper(uow, actor, email)
    uow.session.refresh(target, with_for_update=True)
    if target.status != SUSPENDED:
        raise RuleRefused("mem4.not_suspended", email=target.login_email)
    target.status = target.suspended_from or "active"
    target.suspended_from = None
    uow.add(target)
    notices.notify(uow, target, f"restored_{target.status}")
    uow.audit(actor.login_email, "account.restore", target.login_email, status=target.status)
    return target
