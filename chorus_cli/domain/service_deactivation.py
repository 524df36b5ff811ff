"""Deactivating a structure's service (STR-7), and what follows for the attachment
requests: the pending ones naming the service lapse, their requesters mailed (ATT-1).

A use case across both areas, so it stands above them: ``structures`` deactivates the
service, ``attachments`` lapses the requests, and neither imports the other for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus_cli.domain import attachments, structures

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, Service
    from chorus_cli.store.uow import UnitOfWork


def deactivate_service(
    uow: UnitOfWork, actor: Account, ident: str, code: str, id_type: str | None = None
) -> Service:
    """Deactivate a service; it stays listed, its code stays taken (STR-7); the requests
    naming it lapse (ATT-1)."""
    service = structures._deactivate_service(uow, actor, ident, code, id_type)
    attachments.lapse_for_service(uow, actor, service)
    return service
