"""Who is attached where (ATT-4): the light reads that rights, «Mon compte» and the
structure rules share, below them all (no structure class is loaded for them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, Service, Structure
    from chorus_cli.store.shown import ShownAccount
    from chorus_cli.store.uow import UnitOfWork


def memberships(uow: UnitOfWork, account: ShownAccount) -> list[dict[str, Any]]:
    """The structures the account is attached to, for ``whoami`` (AUTH-3, AUTH-5).

    A plain SQL read: ``whoami`` runs often, and defining the structure tables' classes
    would cost it more than the query itself.
    """
    from sqlalchemy import text

    rows = uow.session.connection().execute(
        text(
            "SELECT s.identifier, s.raison_sociale, s.primary_manager_id, s.status"
            " FROM attachment a JOIN structure s ON s.id = a.structure_id"
            " WHERE a.account_id = :account ORDER BY s.raison_sociale, s.identifier"
        ),
        {"account": account.id},
    )
    return [
        {
            "identifier": identifier,
            "raison_sociale": raison_sociale,
            "role": "primary" if manager == account.id else "member",
            "status": status,
        }
        for identifier, raison_sociale, manager, status in rows
    ]


def service_attachments(uow: UnitOfWork, account: Account, structure: Structure) -> list[Service]:
    """The services an account is attached to in the structure; none means the whole
    structure (or no attachment at all)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Service, ServiceAttachment

    return list(
        uow.session.exec(
            select(Service)
            .join(ServiceAttachment, col(ServiceAttachment.service_id) == col(Service.id))
            .where(
                col(ServiceAttachment.account_id) == account.id,
                col(ServiceAttachment.structure_id) == structure.id,
            )
            .order_by(col(Service.code))
        ).all()
    )
