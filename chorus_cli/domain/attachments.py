"""Attachment requests, attachments and the request history (ATT-1..5; guide 1.4.2, 1.5,
1.7.5, 2.3).

An account acts for a structure once attached to it (``Attachment``): for the whole
structure, or «à la maille service», for some of its services only (then it also has
``ServiceAttachment`` rows, and its default profiles are on those services). It gets
there by a request that a holder of «Organisation modification» on the structure
approves (ATT-2); the structure's creator is attached at once (STR-4).

Request types (``AttachmentRequest.type``): ``structure`` (the whole structure),
``services`` (maille service), ``subscription`` (an «abonnement», MEM-5: a member asks
for a profile, an application and a level, on the structure or on some of its
services; approving it grants the profile by ``granting``'s rules, raising a lower one,
never lowering one). Statuses: ``pending``, ``approved``, ``refused``, ``lapsed``.

Chosen: a pending request *lapses* when it can no longer be approved as made: today,
when a service it names is deactivated (STR-7); its requester is mailed and may ask
again. Requests never lapse with time: the guide sends a requester whose request waits
to the primary manager (1.7.5), so it stays pending until someone decides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chorus_cli.domain import (
    authz,
    catalogue,
    granting,
    habilitations,
    identifiers,
    notices,
    structures,
)
from chorus_cli.domain.membership import service_attachments
from chorus_cli.kernel.clock import iso
from chorus_cli.kernel.errors import BadInput, NotAllowed, NotFound, RuleRefused
from chorus_cli.kernel.words import words

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, AttachmentRequest, Service, Structure
    from chorus_cli.store.uow import UnitOfWork

TYPES = ("structure", "services", "subscription")
STATUSES = ("pending", "approved", "refused", "lapsed")
COMMENT_MAX = 1000
REASON_MAX = 500
CANDIDATES_SHOWN = 10  # an ambiguous name lists at most this many structures
NAME_SEARCH_LIMIT = 200


def _text(value: str | None, key: str, field: str, limit: int) -> str:
    """A mandatory free text (comment, reason): no control or invisible character (SEC-1),
    spaces collapsed, not blank, not too long."""
    from chorus_cli.kernel import text

    value = " ".join(text.check(value or "", field, multiline=True).split())
    if not value:
        raise BadInput(key)
    if len(value) > limit:
        raise BadInput("field.too_long", field=field, max=limit)
    return value


def _account(uow: UnitOfWork, account_id: int | None) -> Account | None:
    from chorus_cli.store.models import Account

    return uow.session.get(Account, account_id) if account_id else None


def _email(uow: UnitOfWork, account_id: int | None) -> str | None:
    account = _account(uow, account_id)
    return account.login_email if account else None


# --- finding the structure a request names (ATT-1) ---------------------------------


def find_structure(
    uow: UnitOfWork, actor: Account, text: str, id_type: str | None = None
) -> Structure:
    """The structure named by its identifier or its raison sociale (guide 2.3.2: «vous
    pouvez rechercher une structure à partir de son identifiant ou de sa raison
    sociale»).

    An identifier is tried first (``--id-type`` settles two types that read it alike).
    Then the name: the active structure whose raison sociale (or label) is exactly
    ``text``, case and accents aside, else the only one whose words start with its
    words (STR-9). Several matches list the candidates and choose none (exit 2).
    """
    if id_type is not None:
        return structures.get(uow, text, id_type)
    if identifiers.candidates(text):
        try:
            return structures.get(uow, text)
        except NotFound:
            pass  # not an identifier we know: perhaps a name made of digits
    if not words(text):
        raise BadInput("att1.structure_missing")
    found = [
        row
        for row in structures.search(uow, actor, text, limit=NAME_SEARCH_LIMIT)
        if row["status"] == "active"
    ]
    typed = words(text)
    exact = [row for row in found if typed in (words(row["raison_sociale"]), words(row["label"]))]
    chosen = exact if len(exact) == 1 else found
    if not chosen:
        raise NotFound("att1.no_structure", text=text)
    if len(chosen) > 1:
        listed = ", ".join(
            f"{row['identifier']} ({row['raison_sociale']})" for row in chosen[:CANDIDATES_SHOWN]
        )
        more = len(chosen) - CANDIDATES_SHOWN
        raise BadInput(
            "att1.ambiguous" if more <= 0 else "att1.ambiguous_more",
            text=text,
            candidates=listed,
            count=more,
        )
    return structures.find(uow, chosen[0]["id_type"], chosen[0]["identifier"])


def _services(uow: UnitOfWork, structure: Structure, codes: list[str] | None) -> list[Service]:
    """The named services of the structure, each once; exit 3 for an unknown code."""
    found: dict[int, Service] = {}
    for code in codes or []:
        service = structures.existing_service(uow, structure, code)
        found.setdefault(service.id, service)
    return sorted(found.values(), key=lambda s: s.code)


# --- what an account is attached to (ATT-4) -----------------------------------------


# The fields of an ``attachments`` row, in its order (`attach list`, OUT-3), an empty CSV's
# header.
ATTACHMENT_FIELDS = (
    "structure", "raison_sociale", "role", "scope", "services", "status", "attached_at",
)  # fmt: skip


def attachments(uow: UnitOfWork, account: Account) -> list[dict[str, Any]]:
    """«Mes rattachements»: every structure the account is attached to, the whole
    structure or the services it is attached to (ATT-4, guide 2.3.1)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Attachment, Structure

    rows = uow.session.exec(
        select(Structure, Attachment)
        .join(Attachment, col(Attachment.structure_id) == col(Structure.id))
        .where(col(Attachment.account_id) == account.id)
        .order_by(col(Structure.raison_sociale), col(Structure.identifier))
    ).all()
    result = []
    for structure, attachment in rows:
        codes = [s.code for s in service_attachments(uow, account, structure)]
        result.append(
            {
                "structure": structure.identifier,
                "raison_sociale": structure.raison_sociale,
                "role": "primary" if structure.primary_manager_id == account.id else "member",
                "scope": "services" if codes else "structure",
                "services": codes,
                "status": structure.status,
                "attached_at": iso(attachment.created_at),
            }
        )
    return result


# --- requests (ATT-1, ATT-3) --------------------------------------------------------


def request_services(uow: UnitOfWork, request: AttachmentRequest) -> list[Service]:
    from sqlmodel import col, select

    from chorus_cli.store.models import AttachmentRequestService, Service

    return list(
        uow.session.exec(
            select(Service)
            .join(
                AttachmentRequestService,
                col(AttachmentRequestService.service_id) == col(Service.id),
            )
            .where(col(AttachmentRequestService.request_id) == request.id)
            .order_by(col(Service.code))
        ).all()
    )


# The fields of ``view``, in its order: every field of a request, what the commands showing
# requests declare (OUT-3; account history's too), the header of an empty CSV.
REQUEST_FIELDS = (
    "id", "type", "structure", "services", "status", "comment", "approver", "raison_sociale",
    "requester", "created_at", "decided_by", "decided_at", "reason", "application", "level",
    "profile",
)  # fmt: skip
# A terminal table of requests shows some of them (JSON and CSV keep every field): what a
# decision needs (`attach pending`), what was decided (`attach approve`, `attach reject`),
# what a requester follows (`account history`).
PENDING_COLUMNS = ("id", "requester", "structure", "services", "comment", "created_at")
DECIDED_COLUMNS = ("id", "requester", "structure", "services", "status", "decided_by")
HISTORY_COLUMNS = ("id", "type", "structure", "services", "status", "approver", "created_at")


def view(uow: UnitOfWork, request: AttachmentRequest) -> dict[str, Any]:
    """A request as scripts see it: SPEC's fields first (``approver`` is the primary
    manager when the request was made, ATT-3), then who, when and why."""
    from chorus_cli.store.models import Structure

    structure = uow.session.get(Structure, request.structure_id)
    return {
        "id": request.id,
        "type": request.type,
        "structure": structure.identifier,
        "services": [s.code for s in request_services(uow, request)],
        "status": request.status,
        "comment": request.comment,
        "approver": _email(uow, request.approver_id),
        "raison_sociale": structure.raison_sociale,
        "requester": _email(uow, request.account_id),
        "created_at": iso(request.created_at),
        "decided_by": _email(uow, request.decided_by_id),
        "decided_at": iso(request.decided_at),
        "reason": request.reason,
        "application": request.application,
        "level": request.level,
        "profile": (
            catalogue.profile_label(request.application, request.level)
            if request.application and request.level
            else None
        ),
    }


def _pending_of(uow: UnitOfWork, account: Account, structure: Structure):
    from sqlmodel import col, select

    from chorus_cli.store.models import AttachmentRequest

    return uow.session.exec(
        select(AttachmentRequest).where(
            col(AttachmentRequest.account_id) == account.id,
            col(AttachmentRequest.structure_id) == structure.id,
            col(AttachmentRequest.status) == "pending",
            col(AttachmentRequest.type) != "subscription",
        )
    ).first()


def _open_services(
    uow: UnitOfWork, structure: Structure, service_codes: list[str] | None
) -> list[Service]:
    """ATT-1: a request names an active structure, and only its active services."""
    granting.check_open(structure.identifier, structure.status)
    services = _services(uow, structure, service_codes)
    granting.check_services_open(structure.identifier, [(s.code, s.active) for s in services])
    return services


def _file(
    uow: UnitOfWork,
    actor: Account,
    structure: Structure,
    made: AttachmentRequest,
    services: list[Service],
    taken: RuleRefused,
    kind: str,
    notice: dict[str, Any] | None = None,
    audit: dict[str, Any] | None = None,
) -> AttachmentRequest:
    """A request (``kind``: attachment or subscription, ATT-3) stored with its services;
    its approver, the primary manager, mailed; audited. ``taken``: what to say when
    another process filed the same pending request since the checks (the store's unique
    index)."""
    from sqlalchemy.exc import IntegrityError

    from chorus_cli.store.models import AttachmentRequestService

    try:
        uow.add(made)
    except IntegrityError:
        raise taken from None
    for service in services:
        uow.add(AttachmentRequestService(request_id=made.id, service_id=service.id))
    codes = [s.code for s in services]
    approver = _account(uow, structure.primary_manager_id)
    if approver is not None:
        notices.notify(
            uow,
            approver,
            f"{kind}_requested",
            requester=f"{actor.first_name} {actor.last_name} ({actor.login_email})",
            identifier=structure.identifier,
            raison_sociale=structure.raison_sociale,
            services=codes,
            comment=made.comment,
            request=str(made.id),
            **(notice or {}),
        )
    uow.audit(
        actor.login_email,
        f"{kind}.request",
        structure.identifier,
        request=made.id,
        type=made.type,
        services=codes,
        **(audit or {}),
    )
    return made


def request(
    uow: UnitOfWork,
    actor: Account,
    structure_text: str,
    comment: str,
    service_codes: list[str] | None = None,
    id_type: str | None = None,
) -> AttachmentRequest:
    """ATT-1: ask to be attached to a structure, or to some of its services, with a
    mandatory comment; one pending request per account and structure. The structure's
    primary manager (the approver, ATT-3) is mailed."""

    from chorus_cli.store.models import AttachmentRequest

    comment = _text(comment, "att1.comment_required", "comment", COMMENT_MAX)
    structure = find_structure(uow, actor, structure_text, id_type)
    services = _open_services(uow, structure, service_codes)
    mine = {s.id: s for s in service_attachments(uow, actor, structure)}
    if authz.is_member(uow, actor, structure):
        if not mine:
            raise RuleRefused("att1.already_attached", id=structure.identifier)
        already = [s.code for s in services if s.id in mine]
        if already:
            raise RuleRefused(
                "att1.already_attached_services",
                codes=", ".join(already),
                id=structure.identifier,
                count=len(already),
            )
    waiting = _pending_of(uow, actor, structure)
    if waiting is not None:
        raise RuleRefused("att1.pending_exists", request=waiting.id, id=structure.identifier)
    made = AttachmentRequest(
        account_id=actor.id,
        structure_id=structure.id,
        type="services" if services else "structure",
        comment=comment,
        approver_id=structure.primary_manager_id,
        created_at=uow.clock.now(),
    )
    taken = RuleRefused("att1.pending_exists", request="?", id=structure.identifier)
    return _file(uow, actor, structure, made, services, taken, "attachment")


def subscribe(
    uow: UnitOfWork,
    actor: Account,
    structure_text: str,
    app: str,
    level: str,
    comment: str,
    service_codes: list[str] | None = None,
    id_type: str | None = None,
) -> AttachmentRequest:
    """MEM-5, «Abonnement»: a member asks for a profile (an application and a level of
    the catalogue) on the structure, or on some of its services; a request of type
    ``subscription`` (ATT-3) that the structure's managers decide (ATT-2). One pending
    per account, structure and application. The primary manager is mailed, as for an
    attachment request."""
    from sqlmodel import col, select

    from chorus_cli.store.models import AttachmentRequest

    application = catalogue.application(app)
    level = catalogue.level(level)
    comment = _text(comment, "att1.comment_required", "comment", COMMENT_MAX)
    structure = structures.get(uow, structure_text, id_type)
    if not authz.is_member(uow, actor, structure):
        raise RuleRefused("mem5.not_attached", id=structure.identifier)
    services = _open_services(uow, structure, service_codes)
    mine = service_attachments(uow, actor, structure)
    if mine:  # a service-level member holds profiles on its services only (HAB-2)
        foreign = [s.code for s in services if s.id not in {m.id for m in mine}]
        if not services or foreign:
            raise RuleRefused(
                "mem5.service_member",
                id=structure.identifier,
                codes=", ".join(m.code for m in mine),
            )
    waiting = uow.session.exec(
        select(AttachmentRequest).where(
            col(AttachmentRequest.account_id) == actor.id,
            col(AttachmentRequest.structure_id) == structure.id,
            col(AttachmentRequest.type) == "subscription",
            col(AttachmentRequest.application) == application,
            col(AttachmentRequest.status) == "pending",
        )
    ).first()
    profile = catalogue.name(application)
    if waiting is not None:
        raise RuleRefused(
            "mem5.pending_exists", request=waiting.id, id=structure.identifier, app=profile
        )
    made = AttachmentRequest(
        account_id=actor.id,
        structure_id=structure.id,
        type="subscription",
        comment=comment,
        approver_id=structure.primary_manager_id,
        created_at=uow.clock.now(),
        application=application,
        level=level,
    )
    taken = RuleRefused("mem5.pending_exists", request="?", id=structure.identifier, app=profile)
    return _file(
        uow,
        actor,
        structure,
        made,
        services,
        taken,
        "subscription",
        notice={"profile": catalogue.profile_label(application, level)},
        audit={"application": application, "level": level},
    )


def _grant_subscription(
    uow: UnitOfWork, row: AttachmentRequest, requester: Account, structure: Structure
) -> list[Service]:
    """MEM-5: the profile a subscription asks for, on the structure or on its services,
    by ``granting`` (raised if held lower, never lowered). The requester is still a
    member there, on those services (ATT-5 may have detached it meanwhile)."""
    services = request_services(uow, row)
    mine = {s.id for s in service_attachments(uow, requester, structure)}
    if not authz.is_member(uow, requester, structure) or (
        mine and (not services or any(s.id not in mine for s in services))
    ):
        raise RuleRefused(
            "mem5.no_longer_attached",
            request=row.id,
            email=requester.login_email,
            id=structure.identifier,
        )
    with granting.one(uow, requester.id) as attacher:
        for service_id in [s.id for s in services] or [None]:
            attacher.grant(requester.id, structure.id, service_id, [(row.application, row.level)])
    return services


def history(uow: UnitOfWork, actor: Account) -> list[dict[str, Any]]:
    """ATT-3, «Historique de mes demandes»: every request of the account, newest first."""
    from sqlmodel import col, select

    from chorus_cli.store.models import AttachmentRequest

    rows = uow.session.exec(
        select(AttachmentRequest)
        .where(col(AttachmentRequest.account_id) == actor.id)
        .order_by(col(AttachmentRequest.created_at).desc(), col(AttachmentRequest.id).desc())
    ).all()
    return [view(uow, r) for r in rows]


# --- deciding (ATT-2) ---------------------------------------------------------------


def pending(
    uow: UnitOfWork, actor: Account, structure_text: str | None = None, id_type: str | None = None
) -> list[dict[str, Any]]:
    """Pending requests, oldest first: of one structure (its «Organisation modification»
    holders; support and admin read them too), else of every structure the actor
    manages (support and admin: of every structure)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import AttachmentRequest

    query = select(AttachmentRequest).where(col(AttachmentRequest.status) == "pending")
    if structure_text is not None:
        structure = structures.get(uow, structure_text, id_type)
        authz.require(uow, actor, authz.ORGANISATION, authz.MODIFICATION, structure, reading=True)
        query = query.where(col(AttachmentRequest.structure_id) == structure.id)
    elif not authz.is_reader(uow, actor):
        managed = authz.managed_structure_ids(uow, actor)
        query = query.where(col(AttachmentRequest.structure_id).in_(managed or [-1]))
    query = query.order_by(col(AttachmentRequest.created_at), col(AttachmentRequest.id))
    return [view(uow, r) for r in uow.session.exec(query).all()]


def _decidable(uow: UnitOfWork, actor: Account, request_ids: list[int]):
    """Every named request, checked before any is decided: all or nothing (ATT-2)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import AttachmentRequest, Structure

    if not request_ids:
        raise BadInput("att2.no_request")
    found = []
    for request_id in dict.fromkeys(request_ids):
        row = uow.session.exec(
            select(AttachmentRequest)
            .where(col(AttachmentRequest.id) == request_id)
            .with_for_update()
        ).first()
        if row is None:
            raise NotFound("att2.not_found", request=request_id)
        structure = uow.session.get(Structure, row.structure_id)
        try:
            authz.require_manager(uow, actor, structure)
        except NotAllowed as refused:  # say which request of the batch stopped it
            raise NotAllowed("att2.not_allowed", request=row.id, **refused.params) from None
        if row.account_id == actor.id:
            raise NotAllowed("att2.own_request", request=row.id)
        if row.status != "pending":
            raise RuleRefused("att2.not_pending", request=row.id, status=row.status)
        found.append((row, structure))
    return found


def _attach(
    uow: UnitOfWork, account: Account, structure: Structure, services: list[Service]
) -> granting.Attach | None:
    """Attach the account by ``granting``'s rules (the flows' too): to the whole
    structure, which ends any service-level attachment there, or to the services, with
    HAB-3's default profiles where it attaches; the first account attached to the whole
    of a structure without a primary manager becomes it (STR-8). None: already attached
    there, nothing changes."""
    with granting.one(uow, account.id) as attacher:
        return attacher.attach(account.id, structure, [s.id for s in services])


def attach_directly(
    uow: UnitOfWork, account: Account, structure: Structure, services: list[Service] | None = None
) -> bool:
    """Attach an account without a request, as a correspondent or a flow does for a
    public entity (PUB-1, PUB-2), by ``_attach``. Returns whether it became the
    structure's primary manager."""
    decision = _attach(uow, account, structure, services or [])
    return decision is not None and decision.primary


def approve(uow: UnitOfWork, actor: Account, request_ids: list[int]) -> list[AttachmentRequest]:
    """ATT-2: approve requests (several at once, like the portal's bulk validation; all
    or none): the requester is attached with HAB-3's default profiles and mailed."""
    decided = []
    for row, structure in _decidable(uow, actor, request_ids):
        requester = _account(uow, row.account_id)
        subscription = row.type == "subscription"
        if subscription:
            services = _grant_subscription(uow, row, requester, structure)
        else:
            services = request_services(uow, row)
            _attach(uow, requester, structure, services)
        row.status = "approved"
        row.decided_by_id = actor.id
        row.decided_at = uow.clock.now()
        uow.add(row)
        codes = [s.code for s in services]
        profile = catalogue.profile_label(row.application, row.level) if subscription else ""
        notices.notify(
            uow,
            requester,
            "subscription_approved" if subscription else "attachment_approved",
            identifier=structure.identifier,
            raison_sociale=structure.raison_sociale,
            services=codes,
            by=actor.login_email,
            **({"profile": profile} if subscription else {}),
        )
        uow.audit(
            actor.login_email,
            "subscription.approve" if subscription else "attachment.approve",
            requester.login_email,
            request=row.id,
            structure=structure.identifier,
            services=codes,
            **(
                {"application": row.application, "level": row.level}
                if subscription
                else {"profiles": "HAB-3 defaults"}
            ),
        )
        decided.append(row)
    return decided


def reject(
    uow: UnitOfWork, actor: Account, request_ids: list[int], reason: str
) -> list[AttachmentRequest]:
    """ATT-2: refuse requests with a reason (all or none); the requester is mailed it."""
    reason = _text(reason, "att2.reason_required", "reason", REASON_MAX)
    decided = []
    for row, structure in _decidable(uow, actor, request_ids):
        requester = _account(uow, row.account_id)
        row.status = "refused"
        row.reason = reason
        row.decided_by_id = actor.id
        row.decided_at = uow.clock.now()
        uow.add(row)
        codes = [s.code for s in request_services(uow, row)]
        subscription = row.type == "subscription"
        notices.notify(
            uow,
            requester,
            "subscription_refused" if subscription else "attachment_refused",
            identifier=structure.identifier,
            raison_sociale=structure.raison_sociale,
            services=codes,
            by=actor.login_email,
            reason=reason,
            **(
                {"profile": catalogue.profile_label(row.application, row.level)}
                if subscription
                else {}
            ),
        )
        uow.audit(
            actor.login_email,
            "subscription.reject" if subscription else "attachment.reject",
            requester.login_email,
            request=row.id,
            structure=structure.identifier,
            reason=reason,
            **({"application": row.application, "level": row.level} if subscription else {}),
        )
        decided.append(row)
    return decided


def lapse_for_service(uow: UnitOfWork, actor: Account, service: Service) -> int:
    """The pending requests naming a service that was just deactivated lapse; their
    requesters are mailed (chosen, see the module's docstring). Returns how many."""
    from sqlmodel import col, select

    from chorus_cli.store.models import AttachmentRequest, AttachmentRequestService, Structure

    rows = uow.session.exec(
        select(AttachmentRequest)
        .join(
            AttachmentRequestService,
            col(AttachmentRequestService.request_id) == col(AttachmentRequest.id),
        )
        .where(
            col(AttachmentRequestService.service_id) == service.id,
            col(AttachmentRequest.status) == "pending",
        )
    ).all()
    structure = uow.session.get(Structure, service.structure_id)
    for row in rows:
        row.status = "lapsed"
        row.decided_at = uow.clock.now()
        uow.add(row)
        requester = _account(uow, row.account_id)
        notices.notify(
            uow,
            requester,
            "attachment_lapsed",
            identifier=structure.identifier,
            raison_sociale=structure.raison_sociale,
            service=service.code,
        )
        uow.audit(
            actor.login_email,
            "attachment.lapse",
            requester.login_email,
            request=row.id,
            structure=structure.identifier,
            service=service.code,
        )
    return len(rows)


# --- detaching (ATT-5) --------------------------------------------------------------


def detach(
    uow: UnitOfWork,
    actor: Account,
    structure_text: str,
    service_codes: list[str] | None = None,
    id_type: str | None = None,
) -> Structure:
    """ATT-5 («Me détacher», guide 2.3.3): leave a structure, with every profile held
    there, or some of the services one is attached to. The primary manager cannot leave
    before handing the role over (STR-8)."""
    from sqlmodel import col, delete

    from chorus_cli.store.models import Attachment, Habilitation, ServiceAttachment

    structure = structures.get(uow, structure_text, id_type)
    if not authz.is_member(uow, actor, structure):
        raise RuleRefused("att5.not_attached", id=structure.identifier)
    mine = {s.id: s for s in service_attachments(uow, actor, structure)}
    if not service_codes:
        if structure.primary_manager_id == actor.id:
            raise RuleRefused("att5.primary_manager", id=structure.identifier)
        habilitations.keep_a_manager(uow, actor, structure)
        for table in (Habilitation, ServiceAttachment, Attachment):
            uow.session.exec(
                delete(table).where(
                    col(table.account_id) == actor.id, col(table.structure_id) == structure.id
                )
            )
        uow.audit(actor.login_email, "attachment.detach", structure.identifier, services=[])
        return structure
    services = _services(uow, structure, service_codes)
    if not mine:
        raise RuleRefused("att5.whole_structure", id=structure.identifier)
    foreign = [s.code for s in services if s.id not in mine]
    if foreign:
        raise RuleRefused(
            "att5.not_attached_service",
            codes=", ".join(foreign),
            id=structure.identifier,
            count=len(foreign),
        )
    leaving = [s.id for s in services]
    if set(mine) <= set(leaving):
        raise RuleRefused("att5.last_service", id=structure.identifier)
    for table in (Habilitation, ServiceAttachment):
        uow.session.exec(
            delete(table).where(
                col(table.account_id) == actor.id, col(table.service_id).in_(leaving)
            )
        )
    uow.audit(
        actor.login_email,
        "attachment.detach",
        structure.identifier,
        services=[s.code for s in services],
    )
    return structure
