"""Habilitations, «Mes habilitations» (HAB-1..6; guide 2.4).

A profile is an application of the catalogue (HAB-1, ``catalogue``) and a level (HAB-2),
held on a whole structure or on one of its services. Who may see or change which profile
is decided in ``authz``; this module keeps the rules about the profiles themselves:

- ``habil grant`` sets a profile to the level given (raising or lowering it) for an
  account attached to the structure; an account attached to some services only (maille
  service) gets profiles on those services only;
- ``habil revoke`` removes one; anyone may give up their own (HAB-5);
- no one removes the last «Organisation modification» of a structure, and the primary
  manager keeps it until the role is handed over (HAB-5, STR-8).

Each change mails the account a notice (SET-3) and is audited (OPS-4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chorus_cli.domain import accounts, authz, catalogue, notices, structures
from chorus_cli.domain.authz import CONSULTATION, MODIFICATION, ORGANISATION
from chorus_cli.domain.membership import service_attachments
from chorus_cli.kernel.clock import iso
from chorus_cli.kernel.errors import BadInput, NotFound, RuleRefused
from chorus_cli.kernel.words import words

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, Habilitation, Service, Structure
    from chorus_cli.store.uow import UnitOfWork


# ``view``'s fields, in its order: what the commands showing profiles declare (OUT-3).
FIELDS = (
    "structure", "service", "application", "level", "raison_sociale", "domain", "profile",
    "granted_at",
)  # fmt: skip


def view(
    habilitation: Habilitation, structure: Structure, service: Service | None
) -> dict[str, Any]:
    """A profile as scripts see it: SPEC's fields first, then its names."""
    return {
        "structure": structure.identifier,
        "service": service.code if service else None,
        "application": habilitation.application,
        "level": habilitation.level,
        "raison_sociale": structure.raison_sociale,
        "domain": catalogue.domain(habilitation.application),
        "profile": catalogue.profile_label(habilitation.application, habilitation.level),
        "granted_at": iso(habilitation.granted_at),
    }


def _order(application: str) -> int:
    codes = list(catalogue.BY_CODE)
    return codes.index(application) if application in codes else len(codes)


def _matches(terms: list[str], habilitation: Habilitation) -> bool:
    """«Profil recherché»: every word typed starts a word of the profile's domain,
    application (name or code) or level, case and accents aside."""
    app = habilitation.application
    haystack = words(
        " ".join(
            (catalogue.domain(app), catalogue.name(app), app.replace("_", " "), habilitation.level)
        )
    )
    return all(any(word.startswith(term) for word in haystack) for term in terms)


def listing(
    uow: UnitOfWork,
    actor: Account,
    structure_text: str | None = None,
    *,
    profile: str | None = None,
    email: str | None = None,
    id_type: str | None = None,
) -> list[dict[str, Any]]:
    """HAB-5, «Mes habilitations»: the account's profiles per structure (and service),
    optionally of one structure, optionally filtered like «Profil recherché». With
    ``email``, another account's profiles on one structure («Organisation
    consultation» there, HAB-4)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Habilitation, Service, Structure

    terms: list[str] = []
    if profile is not None:
        terms = words(profile)
        if not terms:
            raise BadInput("hab5.profile_empty")
    structure = structures.get(uow, structure_text, id_type) if structure_text else None
    target = actor
    if email is not None and email.strip().lower() != actor.login_email:
        if structure is None:
            raise BadInput("hab5.account_needs_structure")
        authz.require(uow, actor, ORGANISATION, CONSULTATION, structure)
        target = accounts.get(uow, email)
    query = (
        select(Habilitation, Structure, Service)
        .join(Structure, col(Structure.id) == col(Habilitation.structure_id))
        .join(Service, col(Service.id) == col(Habilitation.service_id), isouter=True)
        .where(col(Habilitation.account_id) == target.id)
    )
    if structure is not None:
        query = query.where(col(Habilitation.structure_id) == structure.id)
    rows = [
        (h, s, v) for h, s, v in uow.session.exec(query).all() if not terms or _matches(terms, h)
    ]
    rows.sort(
        key=lambda r: (
            r[1].raison_sociale,
            r[1].identifier,
            r[2].code if r[2] else "",
            _order(r[0].application),
        )
    )
    return [view(h, s, v) for h, s, v in rows]


def catalogue_rows() -> list[dict[str, Any]]:
    """HAB-1: the domains, applications and profiles a structure's users may hold."""
    return catalogue.rows()


# --- the last «Organisation modification» (HAB-5, STR-8) ----------------------------


def keep_a_manager(uow: UnitOfWork, account: Account, structure: Structure) -> None:
    """Refuse (exit 1) what would take the account's «Organisation modification» on the
    whole structure when it is the last one there, or the primary manager's (STR-8)."""
    from sqlmodel import col

    from chorus_cli.store.models import Habilitation

    if not authz.holds(uow, account, ORGANISATION, MODIFICATION, structure):
        return
    others = uow.session.exec(
        authz.attached_profiles(Habilitation.id).where(
            col(Habilitation.structure_id) == structure.id,
            col(Habilitation.account_id) != account.id,
            col(Habilitation.service_id).is_(None),
            col(Habilitation.application) == ORGANISATION,
            col(Habilitation.level) == MODIFICATION,
        )
    ).first()
    if others is None:
        raise RuleRefused("hab5.last_manager", id=structure.identifier)
    if structure.primary_manager_id == account.id:
        raise RuleRefused(
            "hab5.primary_manager", email=account.login_email, id=structure.identifier
        )


# --- grant and revoke (HAB-2, HAB-4, HAB-5) -----------------------------------------


def _profile(
    uow: UnitOfWork, account: Account, structure: Structure, service: Service | None, app: str
) -> Habilitation | None:
    from sqlmodel import col, select

    from chorus_cli.store.models import Habilitation

    scope = (
        col(Habilitation.service_id).is_(None)
        if service is None
        else col(Habilitation.service_id) == service.id
    )
    return uow.session.exec(
        select(Habilitation).where(
            col(Habilitation.account_id) == account.id,
            col(Habilitation.structure_id) == structure.id,
            scope,
            col(Habilitation.application) == app,
        )
    ).first()


def _require_attached(
    uow: UnitOfWork, target: Account, structure: Structure, service: Service | None
) -> None:
    """A profile goes to an attached account, and to a service-level one only on its
    services (ATT-1, HAB-2)."""
    if not authz.is_member(uow, target, structure):
        raise RuleRefused("hab5.not_attached", email=target.login_email, id=structure.identifier)
    mine = service_attachments(uow, target, structure)
    if mine and service is None:
        raise RuleRefused(
            "hab5.service_member",
            email=target.login_email,
            id=structure.identifier,
            codes=", ".join(s.code for s in mine),
        )
    if mine and service.id not in {s.id for s in mine}:
        raise RuleRefused(
            "hab5.not_attached_service",
            email=target.login_email,
            code=service.code,
            id=structure.identifier,
        )


def _where(uow: UnitOfWork, structure_text: str, service_code: str | None, id_type: str | None):
    structure = structures.get(uow, structure_text, id_type)
    service = structures.existing_service(uow, structure, service_code) if service_code else None
    return structure, service


def grant(
    uow: UnitOfWork,
    actor: Account,
    email: str,
    structure_text: str,
    app: str,
    level: str,
    service_code: str | None = None,
    id_type: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """HAB-2, HAB-4: set an attached account's profile to ``level`` on the structure (or
    one service); needs «Organisation modification» there. Returns the profile and
    whether it changed (the same level again changes nothing, mails nothing)."""
    from chorus_cli.store.models import Habilitation

    application = catalogue.application(app)
    level = catalogue.level(level)
    structure, service = _where(uow, structure_text, service_code, id_type)
    authz.require_manager(uow, actor, structure, service)
    target = accounts.get(uow, email)
    _require_attached(uow, target, structure, service)
    if service is not None and not service.active:
        raise RuleRefused("hab5.service_inactive", code=service.code, id=structure.identifier)
    row = _profile(uow, target, structure, service, application)
    previous = row.level if row else None
    if previous == level:
        return view(row, structure, service), False
    if application == ORGANISATION and service is None and previous == MODIFICATION:
        keep_a_manager(uow, target, structure)
    if row is None:
        row = Habilitation(
            account_id=target.id,
            structure_id=structure.id,
            service_id=service.id if service else None,
            application=application,
            level=level,
            granted_at=uow.clock.now(),
        )
    row.level = level
    row.granted_at = uow.clock.now()
    uow.add(row)
    _notify(uow, target, "habilitation_granted", row, structure, service, actor)
    uow.audit(
        actor.login_email,
        "habilitation.grant",
        target.login_email,
        structure=structure.identifier,
        service=service.code if service else None,
        application=application,
        level=level,
        previous=previous,
    )
    return view(row, structure, service), True


def revoke(
    uow: UnitOfWork,
    actor: Account,
    email: str,
    structure_text: str,
    app: str,
    service_code: str | None = None,
    id_type: str | None = None,
) -> dict[str, Any]:
    """HAB-5: remove a profile; a holder of «Organisation modification» removes anyone's,
    everyone may remove their own; never the structure's last «Organisation
    modification», nor the primary manager's."""
    application = catalogue.application(app)
    structure, service = _where(uow, structure_text, service_code, id_type)
    yourself = authz.require_manager_or_self(uow, actor, email, structure, service)
    target = actor if yourself else accounts.get(uow, email)
    row = _profile(uow, target, structure, service, application)
    if row is None:
        raise NotFound(
            "hab5.not_held_service" if service else "hab5.not_held",
            email=target.login_email,
            profile=catalogue.name(application),
            id=structure.identifier,
            code=service.code if service else "",
        )
    if application == ORGANISATION and service is None and row.level == MODIFICATION:
        keep_a_manager(uow, target, structure)
    removed = view(row, structure, service)
    uow.session.delete(row)
    uow.session.flush()
    _notify(uow, target, "habilitation_revoked", row, structure, service, actor)
    uow.audit(
        actor.login_email,
        "habilitation.revoke",
        target.login_email,
        structure=structure.identifier,
        service=service.code if service else None,
        application=application,
        level=row.level,
    )
    return removed


def _notify(
    uow: UnitOfWork,
    target: Account,
    kind: str,
    row: Habilitation,
    structure: Structure,
    service: Service | None,
    actor: Account,
) -> None:
    notices.notify(
        uow,
        target,
        kind,
        profile=catalogue.profile_label(row.application, row.level),
        identifier=structure.identifier,
        raison_sociale=structure.raison_sociale,
        services=[service.code] if service else [],
        by=actor.login_email,
    )
