"""Public-entity accounts: created and deleted by DGFiP correspondents (PUB-1..3; guide 1.6).

«Seuls les correspondants dématérialisation de la DGFiP sont habilités pour la création
ou la suppression de comptes utilisateurs» (guide 1.6): a correspondent of the
structure's department, or an admin, creates an account already attached to a public
structure; the owner gets the activation link from the DGFiP's sender (PUB-3) and, at
first login, is asked to complete the information initialised for them (PUB-2).
Who may do it is decided in ``authz``; this module keeps the use cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chorus_cli.domain import accounts, attachments, authz, granting, notices, structures
from chorus_cli.kernel.errors import RuleRefused

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, Structure
    from chorus_cli.store.uow import UnitOfWork


@dataclass
class Provisioned:
    account: Account
    structure: Structure
    primary_manager: bool  # the first account of a structure with none becomes it


def create_account(
    uow: UnitOfWork,
    actor: Account,
    *,
    structure: str,
    email: str,
    last_name: str,
    first_name: str,
    phone: str | None = None,
    contact_email: str | None = None,
    id_type: str | None = None,
) -> Provisioned:
    """PUB-1: a pending account attached to a public structure with HAB-3's defaults,
    marked to complete (PUB-2); its activation link (60 minutes) is mailed from the
    PUB-3 sender."""
    authz.provisioning_scope(uow, actor)  # no role at all: exit 4 before any lookup
    target = structures.get(uow, structure, id_type)
    authz.require_provisioner(uow, actor, target)
    if not target.public:
        raise RuleRefused("pub1.not_public", id=target.identifier)
    granting.check_open(target.identifier, target.status, provisioning=True)
    account = accounts.create(
        uow,
        email=email,
        last_name=last_name,
        first_name=first_name,
        phone=phone,
        contact_email=contact_email,
        actor=actor.login_email,
        rate_limited=False,  # ACC-7 stands in for the public form's captcha
        public=True,
    )
    primary = attachments.attach_directly(uow, account, target)
    uow.audit(
        actor.login_email,
        "attachment.provision",
        account.login_email,
        structure=target.identifier,
        primary_manager=primary,
        profiles="HAB-3 defaults",
    )
    return Provisioned(account, target, primary)


@dataclass
class Deletion:
    """What deleting an account removes, checked before anything is (PUB-1)."""

    account: Account
    structures: list[str] = field(default_factory=list)


def _attached(uow: UnitOfWork, account: Account) -> list[Structure]:
    from sqlmodel import col, select

    from chorus_cli.store.models import Attachment, Structure

    return list(
        uow.session.exec(
            select(Structure)
            .join(Attachment, col(Attachment.structure_id) == col(Structure.id))
            .where(col(Attachment.account_id) == account.id)
            .order_by(col(Structure.identifier))
        ).all()
    )


def deletion(uow: UnitOfWork, actor: Account, email: str) -> Deletion:
    """Check that ``actor`` may delete the account now, and say what it holds.

    Exit 4 outside the actor's scope (PUB-1); exit 1 for oneself, for the last admin, and
    while the account is a structure's primary manager (STR-8: transfer the role first).
    """
    authz.provisioning_scope(uow, actor)
    target = accounts.get(uow, email)
    attached = _attached(uow, target)
    authz.require_account_keeper(uow, actor, target, attached)
    if target.id == actor.id:
        raise RuleRefused("pub1.delete_self")
    primary = [s.identifier for s in attached if s.primary_manager_id == target.id]
    if primary:
        raise RuleRefused("str8.delete_primary", email=target.login_email, ids=", ".join(primary))
    if authz.has_role(uow, target, "admin") and _admins(uow) <= 1:
        raise RuleRefused("pub1.delete_last_admin", email=target.login_email)
    return Deletion(target, [s.identifier for s in attached])


def _admins(uow: UnitOfWork) -> int:
    from sqlmodel import col, func, select

    from chorus_cli.store.models import RoleGrant

    return uow.session.exec(
        select(func.count()).select_from(RoleGrant).where(col(RoleGrant.role) == "admin")
    ).one()


def delete_account(uow: UnitOfWork, actor: Account, email: str) -> Deletion:
    """PUB-1: remove the account with its sessions, factors, attachments, habilitations
    and requests; the audit trail keeps its history. The owner is mailed a notice."""
    from sqlmodel import col, delete, update

    from chorus_cli.store.models import Account, Structure

    checked = deletion(uow, actor, email)
    target = checked.account
    uow.session.refresh(target, with_for_update=True)
    notices.notify(uow, target, "account_deleted", by=actor.login_email)
    # Structures the account asked for stay; only the link to their requester goes.
    uow.session.exec(
        update(Structure)
        .where(col(Structure.created_by_id) == target.id)
        .values(created_by_id=None)
    )
    # Sessions, factors, links, roles, attachments, profiles and requests go with it:
    # every table that names an account does so ON DELETE CASCADE (or SET NULL).
    uow.session.exec(delete(Account).where(col(Account.id) == target.id))
    uow.session.expunge(target)
    uow.audit(
        actor.login_email, "account.delete", target.login_email, structures=checked.structures
    )
    return checked
