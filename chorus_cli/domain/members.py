"""A structure's people: who is attached, and removing someone who left (MEM-1, MEM-2;
guide 1.7.5, 2.4.1; companion guide «Gérer votre structure et ses utilisateurs»).

A use case across structures, attachments and habilitations, so it stands above them.
Who may list and remove is decided in ``authz`` (``sees_members``,
``require_member_remover``); the rules about the person removed live here:

- the primary manager is never removed (STR-8: the role is handed over first);
- the last holder of «Organisation modification» is never removed (HAB-5);
- a removal from the whole structure takes every profile held there and lets the
  person's pending requests on it lapse (ATT-1); ``--service`` removes those service
  attachments and their profiles only (chosen, as ATT-5: not every service of a
  service-level member, which is a removal from the structure);
- one transaction, one notice (SET-3) naming what went, one audit row (OPS-4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chorus_cli.domain import accounts, authz, catalogue, notices, structures
from chorus_cli.domain.authz import MODIFICATION, ORGANISATION
from chorus_cli.domain.membership import service_attachments
from chorus_cli.kernel.clock import iso
from chorus_cli.kernel.errors import BadInput, RuleRefused
from chorus_cli.kernel.words import words
from chorus_cli.store.listing import WINDOW, Page, Window, count, fetch

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, Service, Structure
    from chorus_cli.store.uow import UnitOfWork

FIELDS = (
    "login_email",
    "first_name",
    "last_name",
    "status",
    "role",
    "primary_manager",
    "services",
    "profiles",
    "attached_at",
)


# --- MEM-1: the members of a structure ---------------------------------------------------


def _role(primary: bool, profiles: list[tuple[str, str, str | None]]) -> str:
    """``primary`` (the primary manager, STR-8), ``manager`` («Organisation
    modification» on the whole structure, HAB-4) or ``member``."""
    if primary:
        return "primary"
    if (ORGANISATION, MODIFICATION, None) in profiles:
        return "manager"
    return "member"


def _label(application: str, level: str, service: str | None) -> str:
    label = catalogue.profile_label(application, level)
    return f"{label} [{service}]" if service else label


def _matches(terms: list[str], application: str, level: str) -> bool:
    """«Profil recherché», as `habil list --profile` reads it: every word typed starts a
    word of the profile's domain, application (name or code) or level."""
    haystack = words(
        " ".join(
            (
                catalogue.domain(application),
                catalogue.name(application),
                application.replace("_", " "),
                level,
            )
        )
    )
    return all(any(word.startswith(term) for word in haystack) for term in terms)


def listing(
    uow: UnitOfWork,
    actor: Account,
    ident: str,
    *,
    service: str | None = None,
    profile: str | None = None,
    status: str | None = None,
    id_type: str | None = None,
    shown: Window = WINDOW,
) -> Page:
    """MEM-1: the accounts attached to the structure, by login: names, status, role,
    services, profiles there, attached since. For its «Organisation modification»
    holders, support, admin and the correspondents of its département when it is
    public (``authz.sees_members``). Filters: attached to service ``service`` (maille
    service), holding a profile matching ``profile``, of status ``status``."""
    from sqlalchemy import tuple_
    from sqlmodel import and_, col, exists, select

    from chorus_cli.store.models import (
        Account,
        Attachment,
        Habilitation,
        Service,
        ServiceAttachment,
    )

    structure = structures.get(uow, ident, id_type)
    authz.require_members_reader(uow, actor, structure)
    terms: list[str] = []
    if profile is not None:
        terms = words(profile)
        if not terms:
            raise BadInput("hab5.profile_empty")
    if status is not None and status not in accounts.STATUSES:
        raise BadInput("list.status", status=status, statuses=", ".join(accounts.STATUSES))
    query = (
        select(Account, Attachment.created_at)
        .join(Attachment, col(Attachment.account_id) == col(Account.id))
        .where(col(Attachment.structure_id) == structure.id)
    )
    if service is not None:
        wanted = structures.existing_service(uow, structure, service)
        query = query.where(
            exists().where(
                col(ServiceAttachment.account_id) == col(Account.id),
                col(ServiceAttachment.service_id) == wanted.id,
            )
        )
    if terms:
        # «Profil recherché» is read against the catalogue (a few profiles), then asked
        # of the store as the (application, level) pairs it matches.
        pairs = [
            (code, level)
            for code in catalogue.BY_CODE
            for level in authz.LEVELS
            if _matches(terms, code, level)
        ]
        query = query.where(
            exists().where(
                col(Habilitation.account_id) == col(Account.id),
                col(Habilitation.structure_id) == structure.id,
                tuple_(col(Habilitation.application), col(Habilitation.level)).in_(
                    pairs or [("", "")]
                ),
            )
        )
    if status is not None:
        now = uow.clock.now()
        locked = and_(col(Account.locked_until).is_not(None), col(Account.locked_until) > now)
        if status == "locked":
            query = query.where(col(Account.status) == "active", locked)
        elif status == "active":
            query = query.where(col(Account.status) == "active", ~locked)
        else:
            query = query.where(col(Account.status) == status)
    page = fetch(uow, query.order_by(col(Account.login_email)), shown)
    rows = page.rows
    # TECH-1: the structure's technical accounts follow its people (role ``technical``),
    # unless a filter about people (a service, a profile, a status) is given.
    robots = (
        [] if terms or service is not None or status is not None else _technical(uow, structure)
    )
    ids = [account.id for account, _at in rows]
    # Services and profiles of every member listed: two queries, not two per member.
    codes: dict[int, list[str]] = {i: [] for i in ids}
    held: dict[int, list[tuple[str, str, str | None]]] = {i: [] for i in ids}
    if ids:
        for account_id, code in uow.session.exec(
            select(ServiceAttachment.account_id, Service.code)
            .join(Service, col(Service.id) == col(ServiceAttachment.service_id))
            .where(
                col(ServiceAttachment.structure_id) == structure.id,
                col(ServiceAttachment.account_id).in_(ids),
            )
            .order_by(col(Service.code))
        ).all():
            codes[account_id].append(code)
        for account_id, application, level, code in uow.session.exec(
            select(
                Habilitation.account_id, Habilitation.application, Habilitation.level, Service.code
            )  # fmt: skip
            .join(Service, col(Service.id) == col(Habilitation.service_id), isouter=True)
            .where(
                col(Habilitation.structure_id) == structure.id,
                col(Habilitation.account_id).in_(ids),
            )
        ).all():
            held[account_id].append((application, level, code))
    order = list(catalogue.BY_CODE)
    result = []
    for account, attached_at in rows:
        profiles = sorted(
            held[account.id],
            key=lambda p: (p[2] or "", order.index(p[0]) if p[0] in order else len(order)),
        )
        primary = structure.primary_manager_id == account.id
        result.append(
            {
                "login_email": account.login_email,
                "first_name": account.first_name,
                "last_name": account.last_name,
                "status": accounts.status(uow, account),
                "role": _role(primary, profiles),
                "primary_manager": primary,
                "services": codes[account.id],
                "profiles": [_label(*p) for p in profiles],
                "attached_at": iso(attached_at),
            }
        )
    return _with_technical(uow, query, page, result, robots, shown)


def _technical(uow: UnitOfWork, structure: Structure) -> list[dict[str, Any]]:
    """The structure's technical accounts as member rows (TECH-1): role ``technical``,
    status ``active`` or ``expired`` (TECH-2), no names, services or profiles of their
    own (they borrow the primary manager's rights)."""
    from chorus_cli.domain import technical

    now = uow.clock.now()
    return [
        {
            "login_email": t.login,
            "first_name": "",
            "last_name": "",
            "status": technical.status(t, now),
            "role": "technical",
            "primary_manager": False,
            "services": [],
            "profiles": [],
            "attached_at": iso(t.created_at),
        }
        for t in technical.of_structure(uow, structure)
    ]


def _with_technical(
    uow: UnitOfWork,
    query: Any,
    page: Page,
    people: list[dict[str, Any]],
    robots: list[dict[str, Any]],
    shown: Window,
) -> Page:
    """The window ``shown`` of the people then the technical accounts (OUT-2)."""
    if not robots:
        return Page(people, page.total)
    if page.total is not None:  # more people than shown: the technical rows come later
        return Page(people, page.total + len(robots))
    # How many people the listing has: known from the page unless it is empty.
    humans = shown.offset + len(people) if people or not shown.offset else count(uow, query)
    start = max(0, shown.offset - humans)
    room = None if shown.limit is None else shown.limit - len(people)
    kept = robots[start:] if room is None else robots[start : start + room]
    total = humans + len(robots)
    shown_end = shown.offset + len(people) + len(kept)
    return Page(people + kept, total if shown_end < total else None)


# --- MEM-2: removing a member --------------------------------------------------------


@dataclass
class Removal:
    """What a removal takes (``check``) or took (``remove``)."""

    structure: Structure
    account: Account
    services: list[Service] = field(default_factory=list)
    profiles: int = 0
    lapsed: list[int] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [s.code for s in self.services]


def _lock(uow: UnitOfWork, structure: Structure) -> None:
    """Removals from one structure take turns (PostgreSQL: the structure's row ``FOR
    UPDATE``; SQLite: every write transaction holds the store's lock from its start), so
    two managers removing the same person, or each other, see each other's work."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Structure as Table

    uow.session.exec(
        select(Table)
        .where(col(Table.id) == structure.id)
        .with_for_update()
        .execution_options(populate_existing=True)  # the row as it is now, once locked
    ).first()


def check(
    uow: UnitOfWork,
    actor: Account,
    ident: str,
    email: str,
    service_codes: list[str] | None = None,
    id_type: str | None = None,
) -> Removal:
    """Everything MEM-2 checks, changing nothing: who may remove, whom, from what."""
    structure = structures.get(uow, ident, id_type)
    found = {}
    for code in service_codes or []:  # each once; an unknown code is exit 3
        service = structures.existing_service(uow, structure, code)
        found.setdefault(service.id, service)
    services = sorted(found.values(), key=lambda s: s.code)
    authz.require_member_remover(uow, actor, structure, services)
    target = accounts.get(uow, email)
    if target.id == actor.id:
        raise BadInput("mem2.yourself", id=structure.identifier)
    if not authz.is_member(uow, target, structure):
        raise RuleRefused("mem2.not_attached", email=target.login_email, id=structure.identifier)
    if structure.primary_manager_id == target.id:
        raise RuleRefused("mem2.primary_manager", email=target.login_email, id=structure.identifier)
    mine = {s.id for s in service_attachments(uow, target, structure)}
    if services:
        if not mine:
            raise RuleRefused(
                "mem2.whole_structure", email=target.login_email, id=structure.identifier
            )
        foreign = [s.code for s in services if s.id not in mine]
        if foreign:
            raise RuleRefused(
                "mem2.not_attached_service",
                email=target.login_email,
                codes=", ".join(foreign),
                id=structure.identifier,
                count=len(foreign),
            )
        if mine <= {s.id for s in services}:
            raise RuleRefused(
                "mem2.last_service", email=target.login_email, id=structure.identifier
            )
    elif authz.holds(uow, target, ORGANISATION, MODIFICATION, structure) and not _other_manager(
        uow, target, structure
    ):
        raise RuleRefused("mem2.last_manager", email=target.login_email, id=structure.identifier)
    return Removal(structure, target, services)


def _other_manager(uow: UnitOfWork, target: Account, structure: Structure) -> bool:
    """Whether another attached account holds «Organisation modification» there (HAB-5)."""
    from sqlmodel import col

    from chorus_cli.store.models import Habilitation

    return (
        uow.session.exec(
            authz.attached_profiles(Habilitation.id).where(
                col(Habilitation.structure_id) == structure.id,
                col(Habilitation.account_id) != target.id,
                col(Habilitation.service_id).is_(None),
                col(Habilitation.application) == ORGANISATION,
                col(Habilitation.level) == MODIFICATION,
            )
        ).first()
        is not None
    )


def remove(
    uow: UnitOfWork,
    actor: Account,
    ident: str,
    email: str,
    service_codes: list[str] | None = None,
    id_type: str | None = None,
) -> Removal:
    """MEM-2: detach another account from the structure, or from some of its services,
    with its profiles there; its pending requests on the structure lapse (a removal
    from the whole structure). One notice, one audit row."""
    from sqlalchemy import func
    from sqlmodel import col, delete, select, update

    from chorus_cli.store.models import (
        Attachment,
        AttachmentRequest,
        Habilitation,
        ServiceAttachment,
    )

    structure = structures.get(uow, ident, id_type)
    _lock(uow, structure)
    done = check(uow, actor, ident, email, service_codes, id_type)
    target, now = done.account, uow.clock.now()
    public = notices.is_public_entity(uow, target)  # PUB-3: as before the removal
    mine = (col(Habilitation.account_id) == target.id) & (
        col(Habilitation.structure_id) == structure.id
    )
    if done.services:
        ids = [s.id for s in done.services]
        mine = mine & col(Habilitation.service_id).in_(ids)
    done.profiles = uow.session.exec(
        select(func.count()).select_from(Habilitation).where(mine)
    ).one()
    uow.session.exec(delete(Habilitation).where(mine))
    if done.services:
        uow.session.exec(
            delete(ServiceAttachment).where(
                col(ServiceAttachment.account_id) == target.id,
                col(ServiceAttachment.service_id).in_(ids),
            )
        )
    else:
        for table in (ServiceAttachment, Attachment):
            uow.session.exec(
                delete(table).where(
                    col(table.account_id) == target.id, col(table.structure_id) == structure.id
                )
            )
        waiting = (
            col(AttachmentRequest.account_id) == target.id,
            col(AttachmentRequest.structure_id) == structure.id,
            col(AttachmentRequest.status) == "pending",
        )
        done.lapsed = list(
            uow.session.exec(
                select(AttachmentRequest.id).where(*waiting).order_by(col(AttachmentRequest.id))
            ).all()
        )
        if done.lapsed:
            uow.session.exec(
                update(AttachmentRequest).where(*waiting).values(status="lapsed", decided_at=now)
            )
    notices.notify(
        uow,
        target,
        "member_removed" if not done.lapsed else "member_removed_lapsed",
        public=public,
        identifier=structure.identifier,
        raison_sociale=structure.raison_sociale,
        services=done.codes,
        by=actor.login_email,
        requests=", ".join(str(i) for i in done.lapsed),
    )
    uow.audit(
        actor.login_email,
        "structure.remove_member",
        target.login_email,
        structure=structure.identifier,
        services=done.codes,
        profiles=done.profiles,
        lapsed=done.lapsed,
    )
    return done


REMOVAL_FIELDS = ("structure", "login_email", "services", "profiles_removed", "lapsed_requests")


def view(done: Removal) -> dict[str, Any]:
    """A removal as scripts see it."""
    return {
        "structure": done.structure.identifier,
        "login_email": done.account.login_email,
        "services": done.codes,
        "profiles_removed": done.profiles,
        "lapsed_requests": done.lapsed,
    }
