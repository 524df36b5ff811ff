"""Who may do what on a structure: the one place habilitations are checked (HAB-4, HAB-6).

A profile is an application + a level (HAB-2), held per structure. ``modification``
includes ``consultation``. Platform roles (PUB-1) add to that, and only this much:

- support and admin **read** every structure, its services and its pending requests
  (``require(..., "consultation", ...)`` lets them through);
- support and admin **decide** on public structures awaiting approval (STR-6), but a
  support agent never decides on a structure they requested themselves;
- nobody changes a structure (data, services, primary manager) without
  «Organisation modification» on it, support and admin included: the portal's data
  belongs to the structure's managers (HAB-4).

Every structure command calls ``require`` (or ``require_role``) before it changes or
shows anything; a refusal is ``NotAllowed`` (exit 4) naming the missing profile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus_cli.domain import roles
from chorus_cli.domain.errors import NotAllowed

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, Habilitation, Structure
    from chorus_cli.store.uow import UnitOfWork

# The catalogue of applications (HAB-1): code, the portal's name, its domain.
APPLICATIONS: tuple[tuple[str, str, str], ...] = (
    ("factures_emises", "Factures émises", "Facturation"),
    ("factures_recues", "Factures reçues", "Facturation"),
    ("factures_travaux", "Factures de travaux", "Facturation"),
    ("memoires_frais_justice", "Mémoires de frais de justice", "Facturation"),
    ("remboursement_tic", "Demandes de remboursement de TIC", "Facturation"),
    ("engagements", "Engagements", "Engagements"),
    ("sollicitations", "Sollicitations", "Sollicitations"),
    ("compte_technique", "Compte technique", "Raccordements"),
    ("organisation", "Organisation", "Organisation"),
)
LEVELS = ("consultation", "modification")
ORGANISATION = "organisation"
CONSULTATION, MODIFICATION = LEVELS
READERS = ("support", "admin")
DECIDERS = ("support", "admin")


def profile_label(application: str, level: str) -> str:
    """The portal's name of a profile: «Organisation modification»."""
    names = {code: name for code, name, _domain in APPLICATIONS}
    return f"{names.get(application, application)} {level}"


def _levels_meeting(level: str) -> tuple[str, ...]:
    return LEVELS[LEVELS.index(level) :]


def holds(
    uow: UnitOfWork, account: Account, application: str, level: str, structure: Structure
) -> bool:
    """Whether the account, attached to the structure, holds the profile on the whole
    structure (a profile on one of its services does not count)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Attachment, Habilitation

    query = (
        select(Habilitation.id)
        .join(
            Attachment,
            (col(Attachment.account_id) == col(Habilitation.account_id))
            & (col(Attachment.structure_id) == col(Habilitation.structure_id)),
        )
        .where(
            col(Habilitation.account_id) == account.id,
            col(Habilitation.structure_id) == structure.id,
            col(Habilitation.service_id).is_(None),
            col(Habilitation.application) == application,
            col(Habilitation.level).in_(_levels_meeting(level)),
        )
    )
    return uow.session.exec(query).first() is not None


def is_reader(uow: UnitOfWork, account: Account) -> bool:
    """Support and admin read every structure."""
    return roles.has(uow, account, *READERS)


def is_member(uow: UnitOfWork, account: Account, structure: Structure) -> bool:
    from sqlmodel import col, select

    from chorus_cli.store.models import Attachment

    query = select(Attachment.id).where(
        col(Attachment.account_id) == account.id, col(Attachment.structure_id) == structure.id
    )
    return uow.session.exec(query).first() is not None


def require(
    uow: UnitOfWork, actor: Account, application: str, level: str, structure: Structure
) -> None:
    """Raise NotAllowed (exit 4) unless the actor holds the profile on the structure;
    support and admin pass for ``consultation`` (they read everything)."""
    if level == CONSULTATION and is_reader(uow, actor):
        return
    if not holds(uow, actor, application, level, structure):
        raise NotAllowed(
            "hab6.profile_required",
            profile=profile_label(application, level),
            structure=structure.identifier,
        )


def require_role(uow: UnitOfWork, actor: Account, *role_names: str) -> None:
    """Raise NotAllowed (exit 4) naming the platform roles that would do (PUB-1)."""
    roles.require(uow, actor, *role_names)


def require_decider(uow: UnitOfWork, actor: Account, structure: Structure) -> None:
    """Support or admin decide on a pending public structure, never on their own (STR-6)."""
    require_role(uow, actor, *DECIDERS)
    if structure.created_by_id == actor.id:
        raise NotAllowed("str6.own_request", structure=structure.identifier)


# --- granting (used by structure creation and, next, by attachment approval) ---------


def grant(
    uow: UnitOfWork, account: Account, structure: Structure, application: str, level: str
) -> Habilitation:
    """Give a profile on the whole structure; an existing one is raised, never lowered."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Habilitation

    row = uow.session.exec(
        select(Habilitation).where(
            col(Habilitation.account_id) == account.id,
            col(Habilitation.structure_id) == structure.id,
            col(Habilitation.service_id).is_(None),
            col(Habilitation.application) == application,
        )
    ).first()
    if row is None:
        row = Habilitation(
            account_id=account.id,
            structure_id=structure.id,
            application=application,
            level=level,
            granted_at=uow.clock.now(),
        )
    elif LEVELS.index(level) > LEVELS.index(row.level):
        row.level = level
        row.granted_at = uow.clock.now()
    return uow.add(row)


def grant_defaults(
    uow: UnitOfWork, account: Account, structure: Structure, *, manager: bool = False
) -> None:
    """HAB-3: modification on every application, Organisation in consultation; a manager
    (the creator, STR-4) gets «Organisation modification» too."""
    for application, _name, _domain in APPLICATIONS:
        level = MODIFICATION if manager or application != ORGANISATION else CONSULTATION
        grant(uow, account, structure, application, level)
