"""Platform roles: admin, support, correspondent scoped to departments (PUB-1)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from chorus_cli.domain import accounts, authz, notices
from chorus_cli.domain.departments import DEPARTMENT
from chorus_cli.kernel.errors import BadInput, RuleRefused

if TYPE_CHECKING:
    from chorus_cli.store.models import Account
    from chorus_cli.store.shown import ShownAccount
    from chorus_cli.store.uow import UnitOfWork

ROLES = ("admin", "support", "correspondent")


def describe(uow: UnitOfWork, account: ShownAccount) -> list[str]:
    """``["admin", "correspondent:75"]``."""
    grants = authz.role_grants(uow, account)
    return [g.role + (f":{g.department}" if g.department else "") for g in grants]


def _held(account: Account, role: str, department: str | None) -> Any:
    """The query for ``account``'s grant of ``role`` (for ``department``, or none)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import RoleGrant

    query = select(RoleGrant).where(
        col(RoleGrant.account_id) == account.id, col(RoleGrant.role) == role
    )
    return query.where(
        col(RoleGrant.department).is_(None)
        if department is None
        else col(RoleGrant.department) == department
    )


def _grant(uow: UnitOfWork, account: Account, role: str, department: str | None) -> bool:
    from chorus_cli.store.models import RoleGrant

    if uow.session.exec(_held(account, role, department)).first() is not None:
        return False
    uow.add(
        RoleGrant(
            account_id=account.id, role=role, department=department, granted_at=uow.clock.now()
        )
    )
    return True


def _scoped(role: str, department: str | None) -> str | None:
    """The role's department, checked: a correspondent has one, no other role does."""
    if role not in ROLES:
        raise BadInput("role.unknown", role=role, roles=", ".join(ROLES))
    if department is not None:
        department = department.strip().upper()
        if not DEPARTMENT.match(department):
            raise BadInput("role.department_invalid", department=department)
    if role == "correspondent" and department is None:
        raise BadInput("role.department_required")
    if role != "correspondent" and department is not None:
        raise BadInput("role.department_only_correspondent")
    return department


class Bootstrapped(NamedTuple):
    """The first admin, and whether its account was created for it or existed already."""

    account: Account
    created: bool


def bootstrap(uow: UnitOfWork, *, email: str, last_name: str, first_name: str) -> Bootstrapped:
    """Create the first admin (or promote an existing account) while the store has none."""
    from sqlmodel import col, select

    from chorus_cli.store.models import RoleGrant

    if uow.session.exec(select(RoleGrant).where(col(RoleGrant.role) == "admin")).first():
        raise RuleRefused("admin.exists")
    account = accounts.find(uow, email)
    created = account is None
    if account is None:
        account = accounts.create(
            uow,
            email=email,
            last_name=last_name,
            first_name=first_name,
            actor=accounts.SYSTEM,
            rate_limited=False,
        )
    _grant(uow, account, "admin", None)
    uow.audit(accounts.SYSTEM, "role.grant", account.login_email, role="admin")
    return Bootstrapped(account, created)


def grant(
    uow: UnitOfWork, actor: Account, email: str, role: str, department: str | None = None
) -> Account:
    """An admin grants a platform role; a correspondent is scoped to a department."""
    authz.require_role(uow, actor, *authz.ADMIN)
    department = _scoped(role, department)
    account = accounts.get(uow, email)
    if _grant(uow, account, role, department):
        scope = f" ({department})" if department else ""
        notices.notify(uow, account, "role_granted", role=role, scope=scope)
        uow.audit(
            actor.login_email, "role.grant", account.login_email, role=role, department=department
        )
    return account


# The fields of a ``listing`` row, in its order (`admin roles`, OUT-3).
ROLE_COLUMNS = ("login_email", "role", "department", "granted_at")


def listing(uow: UnitOfWork, actor: Account, role: str | None = None) -> list[dict[str, str]]:
    """Every platform role and who holds it (admin and support read it, PUB-1)."""
    from sqlmodel import col, select

    from chorus_cli.kernel.clock import iso
    from chorus_cli.store.models import Account, RoleGrant

    authz.require_role(uow, actor, *authz.OPERATORS)
    if role is not None and role not in ROLES:
        raise BadInput("role.unknown", role=role, roles=", ".join(ROLES))
    query = select(RoleGrant, Account.login_email).join(
        Account, col(Account.id) == col(RoleGrant.account_id)
    )
    if role is not None:
        query = query.where(col(RoleGrant.role) == role)
    query = query.order_by(col(RoleGrant.role), col(Account.login_email), col(RoleGrant.department))
    return [
        {
            "login_email": email,
            "role": grant.role,
            "department": grant.department,
            "granted_at": iso(grant.granted_at),
        }
        for grant, email in uow.session.exec(query).all()
    ]


def revoke(
    uow: UnitOfWork, actor: Account, email: str, role: str, department: str | None = None
) -> Account:
    """An admin takes a platform role back (a correspondent's, for one department); the
    last admin keeps theirs (PUB-1). The account is mailed a notice."""
    from sqlmodel import col, func, select

    from chorus_cli.kernel.errors import NotFound
    from chorus_cli.store.models import RoleGrant

    authz.require_role(uow, actor, *authz.ADMIN)
    department = _scoped(role, department)
    account = accounts.get(uow, email)
    held = uow.session.exec(_held(account, role, department).with_for_update()).first()
    if held is None:
        raise NotFound("role.not_held", email=account.login_email, role=role)
    if role == "admin":
        admins = uow.session.exec(
            select(func.count()).select_from(RoleGrant).where(col(RoleGrant.role) == "admin")
        ).one()
        if admins <= 1:
            raise RuleRefused("role.last_admin", email=account.login_email)
    uow.session.delete(held)
    uow.session.flush()
    scope = f" ({department})" if department else ""
    notices.notify(uow, account, "role_revoked", role=role, scope=scope)
    uow.audit(
        actor.login_email, "role.revoke", account.login_email, role=role, department=department
    )
    return account
