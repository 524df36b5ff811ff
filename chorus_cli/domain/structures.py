"""Structures and their services (STR-1..9; guide 1.4.1, 1.5, 1.6).

A structure is named on the command line by its identifier (``73282932000074``,
``US-ACME CORP``…), in any spelling its type accepts; ``--id-type`` is needed only when
two structures of different types share that spelling (``get``).

Statuses: ``active``; ``pending`` (a public structure awaiting support, STR-6), which
can be shown but not changed; ``refused`` (kept for the record, the requester detached;
creating it again starts a new request).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from chorus_cli.domain import accounts, authz, granting, identifiers, notices
from chorus_cli.domain.authz import CONSULTATION, MODIFICATION, ORGANISATION
from chorus_cli.domain.departments import DEPARTMENT, department, department_sql
from chorus_cli.domain.preferences import switch
from chorus_cli.domain.structure_lookup import find, get
from chorus_cli.kernel import text
from chorus_cli.kernel.clock import iso
from chorus_cli.kernel.errors import BadInput, NotFound, RuleRefused
from chorus_cli.kernel.words import content_words, words
from chorus_cli.store.listing import WINDOW, Page, Window, fetch, mapped

if TYPE_CHECKING:
    from collections.abc import Callable

    from chorus_cli.sirene import Establishment
    from chorus_cli.store.models import Account, Service, Structure
    from chorus_cli.store.uow import UnitOfWork

TEXT_MAX = 200
REASON_MAX = 500
SEARCH_LIMIT = 50
# A word of ``search_text`` and a search term, kept to their first characters: a name's
# TEXT_MAX characters can fold (NFKD) to one word of 3,600 bytes ("㌖" is "キロメートル"),
# past PostgreSQL's 2,047 bytes a lexeme (migration 0018), which array_to_tsvector does not
# check (15: the length wraps, the index holds broken text). 200 characters: 800 bytes.
WORD_MAX = TEXT_MAX
WITHHELD = "[ND]"  # INSEE's marker for a name it does not publish
EDITABLE = ("label", "email", "phone")
# The settings ``consulterStructure`` answers (issue 22): invoices to the structure must
# name a service code, an engagement number; ``on|off`` on the command line.
SETTINGS = ("service_code_required", "engagement_number_required")
# Chosen: codes are upper-cased (``achats`` and ``ACHATS`` are one code), no spaces.
SERVICE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_./-]{0,99}$")
# --public is for types SIRENE cannot answer for; a person is never a public entity.
PUBLIC_TYPES = ("UE_HORS_FRANCE", "HORS_UE", "RIDET", "TAHITI", "EN_COURS_IMMATRICULATION")


# --- text ---------------------------------------------------------------------------


def search_key(raison_sociale: str, label: str | None, identifier: str) -> str:
    """The ``search_text`` column: name and label words first (ranking looks at the first
    word), then the identifier's words and the identifier in one piece; each word kept to
    WORD_MAX characters (a lexeme of PostgreSQL's word index)."""
    parts = [*words(raison_sociale), *words(label), *words(identifier)]
    parts.append("".join(words(identifier)))
    return " " + " ".join(dict.fromkeys(part[:WORD_MAX] for part in parts)) + " "


def _text(value: str | None, field: str, required: bool = False, limit: int = TEXT_MAX):
    # SEC-1: no control or invisible character (tabs and newlines fold into spaces).
    value = " ".join(text.check(value or "", field, multiline=True).split()) or None
    if value is None and required:
        raise BadInput("str.missing", field=field)
    if value and len(value) > limit:
        raise BadInput("field.too_long", field=field, max=limit)
    return value


def normalise_email(value: str | None) -> str | None:
    """A structure's e-mail address, normalised; None when empty; BadInput (STR-2)."""
    if value is None or not value.strip():
        return None
    try:
        return accounts.normalise_email(value, "email")
    except BadInput:
        raise BadInput("str2.email_invalid", value=value) from None


def normalise_phone(value: str | None) -> str | None:
    """A structure's phone in E.164 (``accounts.normalise_phone``); BadInput (STR-2)."""
    try:
        return accounts.normalise_phone(value)
    except BadInput:
        raise BadInput("str2.phone_invalid", value=value) from None


def phone_from_sheet(value: str | None) -> tuple[str | None, bool]:
    """``accounts.phone_from_sheet`` for a structure's phone (OUT-4); BadInput (STR-2)."""
    try:
        return accounts.phone_from_sheet(value)
    except BadInput:
        raise BadInput("str2.phone_invalid", value=value) from None


# --- finding ------------------------------------------------------------------------
# ``find`` and ``get`` (imported above) live in ``structure_lookup``, below accounts,
# which need them too; ``structures.get`` stays their usual name.


def _account(uow: UnitOfWork, account_id: int | None) -> Account | None:
    from chorus_cli.store.models import Account

    return uow.session.get(Account, account_id) if account_id else None


def _services(uow: UnitOfWork, structure: Structure) -> list[Service]:
    from sqlmodel import col, select

    from chorus_cli.store.models import Service

    return list(
        uow.session.exec(
            select(Service)
            .where(col(Service.structure_id) == structure.id)
            .order_by(col(Service.code))
        ).all()
    )


SERVICE_FIELDS = ("structure", "code", "label", "active", "created_at")  # ``service_row``'s


def service_row(uow: UnitOfWork, service: Service) -> dict[str, Any]:
    from chorus_cli.store.models import Structure

    return {
        "structure": uow.session.get(Structure, service.structure_id).identifier,
        "code": service.code,
        "label": service.label,
        "active": service.active,
        "created_at": iso(service.created_at),
    }


# The fields of ``view``, in its order: what commands showing a structure declare (OUT-3)
# and what `bulk export structures` writes (OPS-2).
VIEW_FIELDS = (
    "id_type", "identifier", "raison_sociale", "label", "status", "non_diffusible",
    "address", "primary_manager", "email", "phone", "public", "helios", "services",
    "created_at", "refusal_reason", "service_code_required", "engagement_number_required",
)  # fmt: skip


def view(uow: UnitOfWork, structure: Structure) -> dict[str, Any]:
    """The structure as scripts see it (SPEC's JSON fields first; ``VIEW_FIELDS``). A
    non-diffusible structure has no address to show (STR-3)."""
    address = None
    if not structure.non_diffusible and (structure.address or structure.postal_code):
        address = {
            "lines": structure.address.split("\n") if structure.address else [],
            "postal_code": structure.postal_code,
            "commune": structure.commune,
            "country": structure.country,
        }
    manager = _account(uow, structure.primary_manager_id)
    return {
        "id_type": structure.id_type,
        "identifier": structure.identifier,
        "raison_sociale": structure.raison_sociale,
        "label": structure.label,
        "status": structure.status,
        "non_diffusible": structure.non_diffusible,
        "address": address,
        "primary_manager": manager.login_email if manager else None,
        "email": structure.email,
        "phone": structure.phone,
        "public": structure.public,
        "helios": structure.helios,
        "services": [
            {"code": s.code, "label": s.label, "active": s.active}
            for s in _services(uow, structure)
        ],
        "created_at": iso(structure.created_at),
        "refusal_reason": structure.refusal_reason,
        "service_code_required": structure.service_code_required,
        "engagement_number_required": structure.engagement_number_required,
    }


# What identifies a structure, never its address: ``summary``'s fields, its own names.
SUMMARY_FIELDS = ("identifier", "id_type", "raison_sociale", "label", "status")


def summary(structure: Structure) -> dict[str, Any]:
    """One search result (``SUMMARY_FIELDS``)."""
    return {name: getattr(structure, name) for name in SUMMARY_FIELDS}


# --- creation (STR-1..6) ------------------------------------------------------------


def _lookup(uow: UnitOfWork, siret: str) -> Establishment:
    """STR-2: the register's data; an unknown or closed SIRET is refused."""
    from chorus_cli.domain import sirene

    found = sirene.find(uow, siret)
    if found is None:
        raise RuleRefused("str2.unknown", siret=siret)
    if not found.active:
        raise RuleRefused("str2.closed", siret=siret)
    return found


def _register_name(found: Establishment, typed: str | None) -> str:
    """STR-2: the raison sociale is the register's. Only when INSEE withholds it (a
    non-diffusible person, ``[ND]``) does the creator type it (STR-3)."""
    withheld = found.raison_sociale.strip() in ("", WITHHELD)
    if not withheld and typed is not None:
        raise BadInput("str2.raison_sociale_from_sirene")
    if withheld and typed is None:
        raise BadInput("str3.name_withheld", siret=found.siret)
    if withheld:
        return _text(typed, "raison_sociale", required=True)
    return found.raison_sociale[:TEXT_MAX]


def mandatory_data(
    id_type: str,
    identifier: str,
    found: Establishment | None,
    *,
    public: bool | None,
    helios: bool,
    raison_sociale: str | None,
    name_from_register: bool = True,
) -> dict[str, Any]:
    """A structure's mandatory data and public character (STR-1..3, STR-6), for
    ``create`` and for flows alike: for a SIRET, SIRENE's (``found``: unknown or closed
    is refused; ``public``, when given, must agree with it); otherwise the typed raison
    sociale, and ``--public`` only for the types SIRENE cannot answer for.
    ``name_from_register``: a raison sociale typed for a SIRET whose register name is
    published is refused (a flow's column, as an export writes it, is ignored instead)."""
    if id_type != "SIRET":
        if helios:
            raise BadInput("str6.helios_siret_only")
        if public and id_type not in PUBLIC_TYPES:
            raise BadInput("str6.public_type", id_type=id_type)
        return {
            "raison_sociale": _text(raison_sociale, "raison_sociale", required=True),
            "public": bool(public),
            "non_diffusible": False,
            "address": None,
            "postal_code": None,
            "commune": None,
            "country": None,
        }
    if found is None:
        raise RuleRefused("str2.unknown", siret=identifier)
    if not found.active:
        raise RuleRefused("str2.closed", siret=identifier)
    if public is not None and public != found.public:
        raise BadInput("ops1.public_from_sirene", siret=identifier, public=found.public)
    if helios and not found.public:
        raise RuleRefused("str6.helios_not_public", siret=identifier)
    hidden = found.non_diffusible
    withheld = found.raison_sociale.strip() in ("", WITHHELD)
    if withheld or name_from_register:
        name = _register_name(found, raison_sociale)
    else:
        name = found.raison_sociale[:TEXT_MAX]
    return {
        "raison_sociale": name,
        "public": found.public,
        "non_diffusible": hidden,
        # STR-3: nothing of the postal address is kept for a non-diffusible SIRET.
        "address": None if hidden else found.address,
        "postal_code": None if hidden else found.postal_code,
        "commune": None if hidden else found.commune,
        "country": None if hidden else found.country,
    }


# The columns of a new structure row, in order (``new_row``: a command's, a flow's, the
# seed's).
STRUCTURE_COLUMNS = (
    "id",
    "id_type",
    "identifier",
    "raison_sociale",
    "label",
    "email",
    "phone",
    "status",
    "non_diffusible",
    "address",
    "postal_code",
    "commune",
    "country",
    "public",
    "helios",
    "service_code_required",
    "engagement_number_required",
    "created_by_id",
    "created_at",
    "search_text",
)


def initial_status(public: bool, helios: bool) -> str:
    """STR-6: a public structure not managed in Hélios waits for support."""
    return "pending" if public and not helios else "active"


def new_row(
    *,
    id_type: str,
    identifier: str,
    data: dict[str, Any],
    label: str | None,
    email: str | None,
    phone: str | None,
    helios: bool,
    created_by_id: int | None,
    created_at: Any,
    id: int | None = None,
    service_code_required: bool = False,
    engagement_number_required: bool = False,
) -> dict[str, Any]:
    """A new structure's columns (``STRUCTURE_COLUMNS``), for ``create``, a structures flow
    and the seed alike: its mandatory data (``mandatory_data``: STR-1..3), its status
    (STR-6), its search key (STR-9). No primary manager yet: the creator, or the account
    a flow names, is attached after (``granting``, STR-4, STR-8)."""
    return {
        "id": id,
        "id_type": id_type,
        "identifier": identifier,
        "raison_sociale": data["raison_sociale"],
        "label": label,
        "email": email,
        "phone": phone,
        "status": initial_status(data["public"], helios),
        "non_diffusible": data["non_diffusible"],
        "address": data["address"],
        "postal_code": data["postal_code"],
        "commune": data["commune"],
        "country": data["country"],
        "public": data["public"],
        "helios": helios,
        "service_code_required": service_code_required,
        "engagement_number_required": engagement_number_required,
        "created_by_id": created_by_id,
        "created_at": created_at,
        "search_text": search_key(data["raison_sociale"], label, identifier),
    }


def create(
    uow: UnitOfWork,
    actor: Account,
    *,
    id_type: str,
    identifier: str,
    raison_sociale: str | None = None,
    label: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    public: bool = False,
    helios: bool = False,
) -> Structure:
    """Create a structure; its creator is attached at once as primary manager with
    «Organisation modification» and HAB-3's other profiles (STR-1..6).

    For a SIRET the raison sociale, address and public character come from SIRENE; a
    public structure not managed in Hélios waits for support (``pending``).
    """
    from sqlalchemy.exc import IntegrityError

    from chorus_cli.store.models import Structure

    id_type = identifiers.normalise_type(id_type)
    identifier = identifiers.normalise(id_type, identifier)
    fields: dict[str, Any] = {
        "label": _text(label, "label"),
        "email": normalise_email(email),
        "phone": normalise_phone(phone),
    }
    if id_type == "SIRET" and public:
        raise BadInput("str6.public_from_sirene")
    if id_type != "SIRET":
        kwargs = {"public": public, "helios": helios, "raison_sociale": raison_sociale}
        fields.update(mandatory_data(id_type, identifier, None, **kwargs))

    existing = find(uow, id_type, identifier)
    if existing is not None and existing.status == "pending":
        raise RuleRefused("str5.pending", id=identifier)
    if existing is not None and existing.status != "refused":
        raise RuleRefused("str5.exists", id=identifier)

    if id_type == "SIRET":
        found = _lookup(uow, identifier)
        data = mandatory_data(
            id_type, identifier, found, public=None, helios=helios, raison_sociale=raison_sociale
        )
        if helios:
            authz.require_helios_creator(uow, actor, found.postal_code)
        fields.update(data)

    now = uow.clock.now()
    row = new_row(
        id_type=id_type,
        identifier=identifier,
        data=fields,
        label=fields["label"],
        email=fields["email"],
        phone=fields["phone"],
        helios=helios,
        created_by_id=actor.id,
        created_at=now,
    )
    del row["id"]  # the store's, or the refused structure's own
    status = row["status"]
    structure = existing or Structure(id_type=id_type, identifier=identifier, created_at=now)
    for name, value in {
        **row,
        "primary_manager_id": None,  # the creator, attached below (STR-4)
        "decided_at": None,
        "refusal_reason": None,
    }.items():
        setattr(structure, name, value)
    try:
        uow.add(structure)
    except IntegrityError:  # created by another process since ``find``
        raise RuleRefused("str5.exists", id=identifier) from None
    with granting.one(uow, actor.id) as attacher:  # STR-4: primary manager, HAB-3
        attacher.attach(actor.id, structure)
    if status == "pending":
        _notify(uow, actor, "structure_pending", structure)
    uow.audit(
        actor.login_email,
        "structure.create",
        identifier,
        id_type=id_type,
        status=status,
        public=structure.public,
        helios=helios,
        non_diffusible=structure.non_diffusible,
    )
    return structure


def _notify(uow: UnitOfWork, account: Account | None, kind: str, structure: Structure, **more):
    if account is not None:
        notices.notify(
            uow,
            account,
            kind,
            identifier=structure.identifier,
            raison_sociale=structure.raison_sociale,
            **more,
        )


# --- support's decision on public structures (STR-6) --------------------------------


PENDING_FIELDS = (*SUMMARY_FIELDS, "requester", "created_at")  # ``pending``'s rows


def pending(uow: UnitOfWork, actor: Account) -> list[dict[str, Any]]:
    """Public structures awaiting approval, oldest first (support and admin)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Structure

    authz.require_role(uow, actor, *authz.DECIDERS)
    rows = uow.session.exec(
        select(Structure)
        .where(col(Structure.status) == "pending")
        .order_by(col(Structure.created_at), col(Structure.id))
    ).all()
    result = []
    for s in rows:
        requester = _account(uow, s.created_by_id)
        result.append(
            {
                **summary(s),
                "requester": requester.login_email if requester else None,
                "created_at": iso(s.created_at),
            }
        )
    return result


def _pending_structure(uow: UnitOfWork, actor: Account, ident: str, id_type: str | None):
    structure = get(uow, ident, id_type)
    authz.require_decider(uow, actor, structure)
    if structure.status != "pending":
        raise RuleRefused("str6.not_pending", id=structure.identifier)
    return structure


def approve(uow: UnitOfWork, actor: Account, ident: str, id_type: str | None = None) -> Structure:
    """Support approves a pending public structure; the requester is mailed (STR-6)."""
    structure = _pending_structure(uow, actor, ident, id_type)
    structure.status = "active"
    structure.decided_at = uow.clock.now()
    uow.add(structure)
    _notify(uow, _account(uow, structure.created_by_id), "structure_approved", structure)
    uow.audit(actor.login_email, "structure.approve", structure.identifier)
    return structure


def refuse(
    uow: UnitOfWork, actor: Account, ident: str, reason: str, id_type: str | None = None
) -> Structure:
    """Support refuses a pending public structure with a reason, mailed to the requester;
    the requester is detached (STR-6)."""
    from sqlmodel import col, delete

    from chorus_cli.store.models import Attachment, Habilitation, ServiceAttachment

    structure = _pending_structure(uow, actor, ident, id_type)
    reason = _text(reason, "reason", required=True, limit=REASON_MAX)
    structure.status = "refused"
    structure.refusal_reason = reason
    structure.decided_at = uow.clock.now()
    structure.primary_manager_id = None
    uow.add(structure)
    for table in (Habilitation, ServiceAttachment, Attachment):
        uow.session.exec(delete(table).where(col(table.structure_id) == structure.id))
    requester = _account(uow, structure.created_by_id)
    _notify(uow, requester, "structure_refused", structure, reason=reason)
    uow.audit(actor.login_email, "structure.refuse", structure.identifier, reason=reason)
    return structure


# --- reading, search, update (STR-8, STR-9, HAB-4) ----------------------------------


def show(uow: UnitOfWork, actor: Account, ident: str, id_type: str | None = None):
    """A structure for its members («Organisation consultation») and support."""
    structure = get(uow, ident, id_type)
    authz.require(uow, actor, ORGANISATION, CONSULTATION, structure)
    return view(uow, structure)


def search(
    uow: UnitOfWork, actor: Account, text: str, limit: int = SEARCH_LIMIT
) -> list[dict[str, Any]]:
    """STR-9: by identifier or raison sociale/label; every word of ``text`` must start a
    word of the structure (``soc gen`` finds «Société Générale»), case and accents
    ignored. Exact identifier first, then names that begin with the first word.

    Anyone logged in searches (to request an attachment, ATT-1) among active
    structures; pending and refused ones only show to their members and support.
    """
    terms = search_terms(text)
    if not terms:
        raise BadInput("str9.empty")
    if not 1 <= limit <= 1000:
        raise BadInput("str9.limit", max=1000)
    query = _search_query(uow, actor, terms, text).limit(limit)
    return [summary(s) for s in uow.session.exec(query).all()]


def search_page(uow: UnitOfWork, actor: Account, text: str, shown: Window = WINDOW) -> Page:
    """``search``, the rows of ``shown`` (OUT-2): ``structure search``."""
    terms = search_terms(text)
    if not terms:
        raise BadInput("str9.empty")
    return mapped(fetch(uow, _search_query(uow, actor, terms, text), shown), summary)


def search_terms(text: str) -> list[str]:
    """STR-9: the words of a search that name something (small words dropped: "mairie
    de lyon" finds «Mairie Lyon» too), each kept to WORD_MAX characters as
    ``search_key`` keeps the words it finds."""
    return [term[:WORD_MAX] for term in content_words(words(text))]


def words_rule(count: int, dialect_name: str, prefix: str = "word") -> Any:
    """STR-9: every one of ``count`` terms starts a word of the structure's name, label or
    identifier (or, several terms, they start the identifier in one piece): ``search_text``
    holds `` term`` (its words each after a space), the rule itself, whatever index finds
    the candidates (``words_match``). Written with the store's ``instr``/``strpos`` rather
    than LIKE: a term is plain text (no pattern), and PostgreSQL's planner does not read
    the column's statistics through a pattern for each (planning a three-word search took
    0.13 ms, half its cost; 0.06 now).

    The condition holds no value: its terms are parameters named ``prefix`` + a number,
    given by ``words_values`` (a statement's ``.params`` or at execution), so a statement
    built once for a count of terms serves any terms (`chorus serve`)."""
    from sqlalchemy import and_, bindparam, func, or_

    from chorus_cli.store.models import Structure

    text = Structure.__table__.c.search_text  # type: ignore[attr-defined]  (a Core query's too)
    position = func.instr if dialect_name == "sqlite" else func.strpos  # 0: not found

    def holds(name: str) -> Any:
        return position(text, bindparam(name)) > 0

    matched = and_(*(holds(f"{prefix}{i}") for i in range(count)))
    if count > 1:  # "732 829 320" is the start of one identifier
        matched = or_(matched, holds(f"{prefix}_whole"))
    return matched


def words_match(count: int, dialect_name: str, prefix: str = "word") -> Any:
    """``words_rule``, its candidates found first by the store's word index: on SQLite
    the FTS5 table ``structure_words`` (migration 0017), on PostgreSQL the GIN index of
    ``search_text``'s words as lexemes (migration 0018, ``words_lexemes_match``). Each
    finds the rows whose words the terms begin; the rule's conditions still decide."""
    from sqlalchemy import and_, bindparam, column, select, table

    from chorus_cli.store.migrations.search_index import WORDS_TABLE
    from chorus_cli.store.models import Structure

    matched = words_rule(count, dialect_name, prefix)
    if dialect_name == "sqlite":
        # FTS5 is asked through the column named after its table (detail=none refuses a
        # column's name: "column queries are not supported").
        index = table(WORDS_TABLE, column("rowid"), column(WORDS_TABLE))
        found = select(index.c.rowid).where(
            index.c[WORDS_TABLE].match(bindparam(f"{prefix}_match"))
        )
        return and_(Structure.__table__.c.id.in_(found), matched)  # type: ignore[attr-defined]
    return and_(words_lexemes_match(bindparam(f"{prefix}_match")), matched)


def words_lexemes_match(query: Any) -> Any:
    """PostgreSQL: ``search_text``'s words, as lexemes (``array_to_tsvector``: each word
    as it is, no parser, dictionary or locale to split or change it), match the tsquery
    ``query`` (``lexemes_query``). The expression of migration 0018's GIN index, which
    serves it: written alike (a test asks the planner)."""
    from sqlalchemy import cast, func, literal_column
    from sqlalchemy.dialects.postgresql import TSQUERY

    from chorus_cli.store.models import Structure

    words = func.string_to_array(Structure.__table__.c.search_text, literal_column("' '"))  # type: ignore[attr-defined]
    lexemes = func.array_to_tsvector(func.array_remove(words, literal_column("''")))
    return lexemes.bool_op("@@")(cast(query, TSQUERY))


def words_values(terms: list[str], prefix: str, dialect_name: str) -> dict[str, str]:
    """The parameters of ``words_match``: each term after a space (what ``search_text``
    holds where a word begins) and the index's query (``words_query`` on SQLite,
    ``lexemes_query`` on PostgreSQL)."""
    values = {f"{prefix}{i}": f" {term}" for i, term in enumerate(terms)}
    if len(terms) > 1:
        values[f"{prefix}_whole"] = " " + whole(terms)
    indexed = words_query if dialect_name == "sqlite" else lexemes_query
    values[f"{prefix}_match"] = indexed(terms)
    return values


def whole(terms: list[str]) -> str:
    """Several terms as the start of one word (an identifier typed in pieces), kept to
    WORD_MAX characters as ``search_key`` keeps the words."""
    return "".join(terms)[:WORD_MAX]


def words_query(terms: list[str]) -> str:
    """The FTS5 query of ``structure_words`` that finds what ``words_match`` matches:
    each term a word's prefix (``"soc"* AND "gen"*``), or, several terms, all of them
    the identifier's start in one piece. Each term is quoted (a quote doubled), so no
    term is ever FTS5 syntax (``AND``, ``NEAR``, ``*``…); the query is a parameter."""
    return _prefixes(terms, lambda term: '"' + term.replace('"', '""') + '"*', "AND", "OR")


def lexemes_query(terms: list[str]) -> str:
    """PostgreSQL's tsquery of the same search (``'soc':* & 'gen':*``, or, several
    terms, ``| 'socgen':*``): each term a quoted lexeme's prefix (a quote doubled, a
    backslash escaped), never tsquery syntax; read by a cast, not ``to_tsquery`` (no
    dictionary changes a term); the query is a parameter."""

    def starts(term: str) -> str:
        return "'" + term.replace("\\", "\\\\").replace("'", "''") + "':*"

    return _prefixes(terms, starts, "&", "|")


def _prefixes(terms: list[str], starts: Callable[[str], str], both: str, either: str) -> str:
    """An index's query of STR-9's rule: every term's prefix (``starts``) joined by
    ``both``, or, several terms, ``either`` the terms in one piece (``whole``)."""
    each = f" {both} ".join(map(starts, terms))
    return each if len(terms) == 1 else f"({each}) {either} {starts(whole(terms))}"


def _search_query(uow: UnitOfWork, actor: Account, terms: list[str], text: str) -> Any:
    from sqlmodel import case, col, select

    from chorus_cli.store.models import Structure

    column = col(Structure.search_text)
    dialect = uow.dialect_name
    matched = words_match(len(terms), dialect)
    findable = authz.findable_structures(uow, actor, Structure.__table__)
    query = select(Structure).where(matched, findable)
    exact = [identifier for _type, identifier in identifiers.candidates(text)]
    rank = case(
        (col(Structure.identifier).in_(exact or [""]), 0),
        (column.startswith(f" {terms[0]}"), 1),
        else_=2,
    )
    query = query.order_by(rank, col(Structure.raison_sociale), col(Structure.identifier))
    return query.params(words_values(terms, "word", dialect))


def _managed(uow: UnitOfWork, actor: Account, ident: str, id_type: str | None) -> Structure:
    """A structure the actor may change: «Organisation modification» (HAB-4, HAB-6) on an
    active structure (a pending one waits for support, STR-6)."""
    structure = get(uow, ident, id_type)
    authz.require(uow, actor, ORGANISATION, MODIFICATION, structure)
    if structure.status == "pending":
        raise RuleRefused("str6.awaiting", id=structure.identifier)
    if structure.status != "active":
        raise RuleRefused("str6.was_refused", id=structure.identifier)
    return structure


# The columns an update writes (``updated_row``), in order (the statement names the
# structure's id after them); all but the last, ``search_text``, are the structure's data.
UPDATED_COLUMNS = (
    "label",
    "email",
    "phone",
    "public",
    "helios",
    *SETTINGS,
    "status",
    "search_text",
)


def updated_row(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """What updating a structure writes (``UPDATED_COLUMNS``), for ``update`` and a
    structures flow alike: ``current`` with ``changes`` (checked values: label, e-mail,
    phone, the settings, and from a flow public, helios); a pending public structure now managed in
    Hélios needs no approval (STR-6); the search key follows the label (STR-9)."""
    row = {name: current[name] for name in UPDATED_COLUMNS[:-1]} | changes
    if changes.get("helios") and current["status"] == "pending":
        row["status"] = "active"
    row["search_text"] = search_key(current["raison_sociale"], row["label"], current["identifier"])
    return row


def update(
    uow: UnitOfWork,
    actor: Account,
    ident: str,
    changes: dict[str, str | None],
    id_type: str | None = None,
) -> Structure:
    """Edit label, e-mail, phone (STR-2 optional data), ``""`` removing one, and the
    settings, ``on|off`` (``SETTINGS``) (HAB-4)."""
    structure = _managed(uow, actor, ident, id_type)
    unknown = set(changes) - set(EDITABLE) - set(SETTINGS)
    if unknown:
        raise BadInput("str.not_editable", field=sorted(unknown)[0])
    if not changes:
        raise BadInput("str.nothing_to_update")
    clean = {
        "label": _text,
        "email": lambda v, _f: normalise_email(v),
        "phone": lambda v, _f: normalise_phone(v),
        **{name: _switch for name in SETTINGS},
    }
    current = {name: getattr(structure, name) for name in (*UPDATED_COLUMNS, "raison_sociale")}
    current["identifier"] = structure.identifier
    cleaned = {field: clean[field](value, field) for field, value in changes.items()}
    for name, value in updated_row(current, cleaned).items():
        setattr(structure, name, value)
    uow.add(structure)
    uow.audit(actor.login_email, "structure.update", structure.identifier, fields=sorted(changes))
    return structure


def _switch(value: str | None, field: str) -> bool:
    """A setting, ``on|off`` as ``structure update --service-code-required`` takes it."""
    return switch(value or "", "--" + field.replace("_", "-"), "str.switch")


def transfer_primary(
    uow: UnitOfWork, actor: Account, ident: str, email: str, id_type: str | None = None
) -> Structure:
    """STR-8: one primary manager; the role goes to another attached, active account,
    which gets «Organisation modification»; both are mailed (SET-3)."""
    structure = _managed(uow, actor, ident, id_type)
    target = accounts.get(uow, email)
    if target.id == structure.primary_manager_id:
        raise RuleRefused("str8.already_primary", email=target.login_email)
    former = _account(uow, structure.primary_manager_id)
    former_email = former.login_email if former else None
    with granting.one(uow, target.id) as attacher:  # the rule a structures flow applies
        granting.check_primary(
            target.login_email,
            structure.identifier,
            state=attacher.state_of(target.id, structure.id),
            status=target.status,
            transfer=former is not None,
            attaching=False,
        )
        attacher.make_primary(target.id, structure)
    by = actor.login_email
    _notify(uow, target, "primary_transferred_to", structure, by=by)
    _notify(uow, former, "primary_transferred_from", structure, new=target.login_email, by=by)
    uow.audit(
        by,
        "structure.transfer_primary",
        structure.identifier,
        former=former_email,
        new=target.login_email,
    )
    return structure


# --- services (STR-7) ---------------------------------------------------------------


def normalise_code(code: str) -> str:
    value = (code or "").strip().upper()
    if not SERVICE_CODE.match(value):
        raise BadInput("str7.code_invalid", code=code)
    return value


def _service(uow: UnitOfWork, structure: Structure, code: str) -> Service | None:
    from sqlmodel import col, select

    from chorus_cli.store.models import Service

    return uow.session.exec(
        select(Service).where(col(Service.structure_id) == structure.id, col(Service.code) == code)
    ).first()


def existing_service(uow: UnitOfWork, structure: Structure, code: str) -> Service:
    """The structure's service with this code, active or not; exit 3 if none (STR-7)."""
    service = _service(uow, structure, normalise_code(code))
    if service is None:
        raise NotFound("str7.not_found", code=code, id=structure.identifier)
    return service


def add_service(
    uow: UnitOfWork,
    actor: Account,
    ident: str,
    code: str,
    label: str,
    id_type: str | None = None,
) -> Service:
    """A new active service; its code is unique within the structure (STR-7)."""
    from sqlalchemy.exc import IntegrityError

    from chorus_cli.store.models import Service

    structure = _managed(uow, actor, ident, id_type)
    code = normalise_code(code)
    label = _text(label, "label", required=True)
    if _service(uow, structure, code) is not None:
        raise RuleRefused("str7.code_exists", code=code, id=structure.identifier)
    try:
        service = uow.add(
            Service(structure_id=structure.id, code=code, label=label, created_at=uow.clock.now())
        )
    except IntegrityError:  # added by another process since the check
        raise RuleRefused("str7.code_exists", code=code, id=structure.identifier) from None
    uow.audit(actor.login_email, "service.add", structure.identifier, code=code)
    return service


def services(
    uow: UnitOfWork, actor: Account, ident: str, id_type: str | None = None
) -> list[dict[str, Any]]:
    """Every service of the structure, inactive ones included (members and support; an
    active public structure's, anyone logged in: MEM-6)."""
    structure = get(uow, ident, id_type)
    authz.require_services_reader(uow, actor, structure)
    return [service_row(uow, s) for s in _services(uow, structure)]


def update_service(
    uow: UnitOfWork,
    actor: Account,
    ident: str,
    code: str,
    label: str | None,
    id_type: str | None = None,
) -> Service:
    """Rename a service (STR-7)."""
    structure = _managed(uow, actor, ident, id_type)
    service = existing_service(uow, structure, code)
    if label is None:
        raise BadInput("str7.nothing_to_update")
    service.label = _text(label, "label", required=True)
    uow.add(service)
    uow.audit(actor.login_email, "service.update", structure.identifier, code=service.code)
    return service


def _deactivate_service(
    uow: UnitOfWork, actor: Account, ident: str, code: str, id_type: str | None = None
) -> Service:
    """Deactivate a service; it stays listed, its code stays taken (STR-7). The requests
    naming it are lapsed (ATT-1) by ``service_deactivation.deactivate_service``, the only
    caller: call that, never this."""
    structure = _managed(uow, actor, ident, id_type)
    service = existing_service(uow, structure, code)
    if not service.active:
        raise RuleRefused("str7.already_inactive", code=service.code, id=structure.identifier)
    service.active = False
    uow.add(service)
    uow.audit(actor.login_email, "service.deactivate", structure.identifier, code=service.code)
    return service


# --- listing (support, admins, correspondents) ---------------------------------------

STATUSES = ("active", "pending", "refused")


def listing(
    uow: UnitOfWork,
    actor: Account,
    *,
    status: str | None = None,
    public: bool | None = None,
    in_department: str | None = None,
    shown: Window = WINDOW,
) -> Page:
    """Structures by identifier (the rows of ``shown``, OUT-2), for support and admins
    (all) and correspondents (the public structures of their departments); anyone else:
    exit 4. ``in_department``: of the postal address (``75``, ``2A``, ``974``)."""
    from sqlalchemy import bindparam
    from sqlmodel import col, select, text

    from chorus_cli.store.models import Account, Structure

    scope = authz.oversight_scope(uow, actor)
    if status is not None and status not in STATUSES:
        raise BadInput("list.status", status=status, statuses=", ".join(STATUSES))
    area = department_sql("structure.postal_code")
    query = select(Structure, Account.login_email).outerjoin(
        Account, col(Account.id) == col(Structure.primary_manager_id)
    )
    if in_department is not None:
        wanted = in_department.strip().upper()
        if not DEPARTMENT.match(wanted):
            raise BadInput("role.department_invalid", department=wanted)
        query = query.where(text(f"({area}) = :department").bindparams(department=wanted))
    if not scope.everywhere:
        in_scope = text(f"({area}) IN :departments").bindparams(
            bindparam("departments", value=sorted(scope.departments), expanding=True)
        )
        query = query.where(col(Structure.public).is_(True), in_scope)
    if status is not None:
        query = query.where(col(Structure.status) == status)
    if public is not None:
        query = query.where(col(Structure.public).is_(public))
    query = query.order_by(col(Structure.identifier), col(Structure.id_type))
    return mapped(fetch(uow, query, shown), _listed)


# A row of ``listing`` (``_listed``): `structure list`'s fields (OUT-3).
LIST_FIELDS = (
    *SUMMARY_FIELDS, "public", "helios", "department", "primary_manager", "created_at",
)  # fmt: skip


def _listed(row: tuple[Any, str | None]) -> dict[str, Any]:
    s, manager = row
    return {
        **summary(s),
        "public": s.public,
        "helios": s.helios,
        "department": department(s.postal_code),
        "primary_manager": manager,
        "created_at": iso(s.created_at),
    }
