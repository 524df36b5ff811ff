"""The integrators' API (API-1): what `chorus serve` answers, without HTTP.

Each use case takes the technical account the call is made with (TECH-1: the rights of
its structure's primary manager on that structure), the request's body as the
published contract names it (AIFE's Swagger of the «Structures» API: ``structure``,
``parametres``, ``idStructureCPP``…), and returns the answer's fields in the contract's
names, without the envelope (``codeRetour``, ``libelle``), which the HTTP layer adds.
Every use is audited with the technical account as actor (TECH-2, ``record_use``).

Ids: ``idStructureCPP``, ``idService``, ``idUtilisateur``, ``idRattachement`` are the
store's own integer keys, stable for the life of a row.

Searching (``rechercherStructure``): among active structures, as STR-9's search for
anyone logged in; the raison sociale matches as STR-9's words do (one rule, in
``structures.words_match``); the identifier matches exactly (any spelling its type
accepts). Chorus has no «inactive» structure a third party may see: ``statutStructure``
``INACTIF`` finds none.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from math import ceil
from typing import TYPE_CHECKING, Any

from chorus_cli.domain import api_clients, authz, identifiers, structures, technical
from chorus_cli.domain.secrets import same
from chorus_cli.kernel.clock import iso
from chorus_cli.kernel.errors import BadInput, NotFound
from chorus_cli.store.listing import Window, count

if TYPE_CHECKING:
    from chorus_cli.store.models import Service, Structure, TechnicalAccount
    from chorus_cli.store.uow import UnitOfWork

PAGE_DEFAULT = 10
ID_MAX = 2**31 - 1  # the store's keys are 32-bit integers: a larger id names nothing
PAGE_MAX = 1000
# The contract's type enumeration has AUTRE where chorus names the case.
TYPE_OUT = {"EN_COURS_IMMATRICULATION": "AUTRE"}
TYPE_IN = {"AUTRE": "EN_COURS_IMMATRICULATION"}
STRUCTURE_SORTS = {
    "IdentifiantStructure": "identifier",
    "DesignationStructure": "raison_sociale",
    "TypeIdentifiantStructure": "id_type",
    "Statut": "status",
}
SERVICE_SORTS = {
    "CodeService": "code",
    "LibelleService": "label",
    "DateDbtService": "created_at",
    "DateFinService": "created_at",
    "EstActif": "active",
}
ATTACHMENT_SORTS = {"CodeService": "code", "NomService": "label", "StatutRattachement": "code"}


# --- reading a request's fields ---------------------------------------------------------


def _object(body: Any, field: str) -> dict[str, Any]:
    value = body.get(field) if isinstance(body, dict) else None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadInput("api1.field", field=field)
    return value


def _text(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 200 or not value.isprintable():
        raise BadInput("api1.field", field=field)
    return value.strip() or None


def _integer(body: dict[str, Any], field: str, required: bool = False) -> int | None:
    value = body.get(field)
    if value is None:
        if required:
            raise BadInput("api1.missing", field=field)
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise BadInput("api1.field", field=field)
    return value


def _choice(body: dict[str, Any], field: str, choices: Any) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or value not in choices:
        raise BadInput("api1.field", field=field)
    return value


def _flag(body: dict[str, Any], field: str) -> bool:
    value = body.get(field)
    if value is not None and not isinstance(value, bool):
        raise BadInput("api1.field", field=field)
    return bool(value)


def _paging(params: dict[str, Any], sorts: dict[str, str]) -> tuple[Window, str | None, bool]:
    """``nbResultatsParPage`` (10 unless given, at most 1,000), ``pageResultatDemandee``
    (from 1), ``triColonne`` and ``triSens``."""
    size = _integer(params, "nbResultatsParPage") or PAGE_DEFAULT
    if size > PAGE_MAX:
        raise BadInput("api1.page_size", max=PAGE_MAX)
    page = _integer(params, "pageResultatDemandee") or 1
    if page > 10**9:
        raise BadInput("api1.field", field="pageResultatDemandee")
    column = _choice(params, "triColonne", sorts)
    descending = _choice(params, "triSens", ("Ascendant", "Descendant")) == "Descendant"
    return Window(size, (page - 1) * size), column, descending


def _paged(uow: UnitOfWork, query: Any, shown: Window) -> tuple[list[Any], dict[str, int]]:
    """The objects of an ORM query's page and the contract's ``parametresRetour``."""
    found = list(uow.session.exec(query.offset(shown.offset).limit(shown.limit + 1)).all())
    return _page(found, shown, lambda: count(uow, query))


def _page(
    found: list[Any], shown: Window, counted: Callable[[], int]
) -> tuple[list[Any], dict[str, int]]:
    """A page from the rows of ``shown``'s window read with one more (``limit + 1``), and
    the contract's ``parametresRetour``: all the rows are ``counted`` only when there are
    more, or when the page is past the last one."""
    size = shown.limit or PAGE_DEFAULT  # always given (``_paging``)
    if len(found) > size or (not found and shown.offset):
        total = counted()
    else:
        total = shown.offset + len(found)
    return found[:size], {
        "nbResultatsParPage": size,
        "pageCourante": shown.offset // size + 1,
        "pages": ceil(total / size),
        "total": total,
    }


def _ordered(query: Any, model: Any, column: str | None, descending: bool, default: str) -> Any:
    from sqlmodel import col

    first = col(getattr(model, column or default))
    return query.order_by(first.desc() if descending else first.asc(), col(model.id))


# --- what the answers show ---------------------------------------------------------------


def id_type_out(id_type: str) -> str:
    return TYPE_OUT.get(id_type, id_type)


def structure_found(structure: Structure) -> dict[str, Any]:
    """``StructureAAfficher``: one search result."""
    return {
        "idStructureCPP": structure.id,
        "identifiantStructure": structure.identifier,
        "typeIdentifiantStructure": id_type_out(structure.id_type),
        "designationStructure": structure.raison_sociale,
        "statut": "ACTIVE" if structure.status == "active" else "INACTIVE",
    }


def _address(structure: Structure) -> dict[str, Any] | None:
    """``AdressePostale``; none for a non-diffusible structure (STR-3)."""
    if structure.non_diffusible or not (structure.address or structure.postal_code):
        return None
    lines = structure.address.split("\n") if structure.address else []
    shown = {
        "adresse": lines[0] if lines else None,
        "complementAdresse1": lines[1] if len(lines) > 1 else None,
        "complementAdresse2": " ".join(lines[2:]) or None,
        "codePostal": structure.postal_code,
        "ville": structure.commune,
        "pays": structure.country,
        "telephone": structure.phone,
    }
    return {k: v for k, v in shown.items() if v is not None}


def _service_shown(service: Service) -> dict[str, Any]:
    """``ServiceExpose``."""
    return {
        "idService": service.id,
        "codeService": service.code,
        "libelleService": service.label,
        "estActif": service.active,
        "statutService": "ACTIF" if service.active else "INACTIF",
    }


# --- the use cases ------------------------------------------------------------------------


def _structure(uow: UnitOfWork, structure_id: int) -> Structure:
    from chorus_cli.store.models import Structure

    structure = uow.session.get(Structure, structure_id) if structure_id <= ID_MAX else None
    if structure is None:
        raise NotFound("api1.structure_not_found", id=structure_id)
    return structure


def search_structures(uow: UnitOfWork, caller: TechnicalAccount, body: Any) -> dict[str, Any]:
    """``rechercherStructure``: active structures by identifier, raison sociale (STR-9's
    words), type, postal code, identifier type; a page of them (API-1).

    The hottest call: the request's fields give the statement's shape (which filters,
    how many terms, which order) and its parameters; the statement of a shape is built
    once (``_search_statement``, SQLAlchemy Core on the table's columns, rows read as
    they come)."""
    wanted = _object(body, "structure")
    shown, column, descending = _paging(_object(body, "parametres"), STRUCTURE_SORTS)
    params: dict[str, Any] = {}
    inactive = _choice(wanted, "statutStructure", ("ACTIF", "INACTIF")) == "INACTIF"
    id_type = _choice(wanted, "typeIdentifiantStructure", (*identifiers.TYPES, "AUTRE"))
    if id_type is not None:
        params["id_type"] = TYPE_IN.get(id_type, id_type)
    ident = _text(wanted, "identifiantStructure")
    idents = 0
    if ident is not None:
        found = _candidates(ident)
        idents = len(found)
        params.update({f"ident{i}": value for i, value in enumerate(found)})
    dialect = uow.dialect_name
    names: list[int] = []  # how many terms each name field gives (0: not asked)
    for number, field in enumerate(("raisonSocialeStructure", "libelleStructure", "nomStructure")):
        name = _text(wanted, field)
        if name is None:
            names.append(0)
            continue
        terms = structures.search_terms(name)
        if not terms:
            raise BadInput("api1.field", field=field)
        names.append(len(terms))
        params.update(structures.words_values(terms, f"name{number}_", dialect))
    kind = _choice(wanted, "typeStructure", ("PUBLIQUE", "PRIVEE"))
    public_only = _flag(body if isinstance(body, dict) else {}, "restreindreStructuresPrivees")
    if kind is not None:
        params["public"] = kind == "PUBLIQUE"
    postal = _text(wanted, "adresseCodePostal")
    if postal is not None:
        params["postal_code"] = postal
    city = _text(wanted, "adresseVille")
    if city is not None:
        params["commune"] = city.upper()
    query = _search_statement(
        dialect,
        inactive,
        public_only,
        idents,
        tuple(names),
        tuple(sorted(params)),
        column,
        descending,
    )
    found = uow.rows(query, {**params, "limit": shown.limit + 1, "offset": shown.offset})
    rows, paging = _page(found, shown, lambda: int(uow.rows(_counted(query), params)[0][0]))
    technical.record_use(uow, caller, "api.rechercher_structure", "structures", found=len(rows))
    return {"listeStructures": [structure_found(s) for s in rows], "parametresRetour": paging}


@lru_cache(maxsize=1024)
def _candidates(ident: str) -> tuple[str, ...]:
    """The spellings of an identifier a search matches exactly (any its type accepts)."""
    pairs = identifiers.candidates(ident) or [("", ident)]
    return tuple(dict.fromkeys(i for _t, i in pairs))


@lru_cache(maxsize=1024)
def _search_statement(
    dialect: str,
    inactive: bool,
    public_only: bool,
    idents: int,
    names: tuple[int, ...],
    given: tuple[str, ...],
    column: str | None,
    descending: bool,
) -> Any:
    """The statement of ``search_structures`` for a shape (the store's dialect: which
    word index serves the names, ``structures.words_match``; which filters, how many
    identifiers and words, which order), built once; it holds no value of a request:
    every one is a named parameter (``given``)."""
    from sqlalchemy import bindparam, select

    from chorus_cli.store.models import Structure

    table = Structure.__table__.c  # type: ignore[attr-defined]
    query = select(
        table.id, table.identifier, table.id_type, table.raison_sociale, table.status
    ).where(authz.technical_findable_structures())
    if inactive:
        query = query.where(table.id.is_(None))
    if "id_type" in given:
        query = query.where(table.id_type == bindparam("id_type"))
    if idents:
        query = query.where(table.identifier.in_([bindparam(f"ident{i}") for i in range(idents)]))
    for number, many in enumerate(names):
        if many:
            query = query.where(structures.words_match(many, dialect, f"name{number}_"))
    if "public" in given:
        query = query.where(table.public == bindparam("public"))
    if public_only:
        query = query.where(table.public.is_(True))
    if "postal_code" in given:
        query = query.where(
            table.postal_code == bindparam("postal_code"), table.non_diffusible.is_(False)
        )
    if "commune" in given:
        query = query.where(table.commune == bindparam("commune"), table.non_diffusible.is_(False))
    first = getattr(table, STRUCTURE_SORTS[column] if column else "identifier")
    query = query.order_by(first.desc() if descending else first.asc(), table.id)
    return query.limit(bindparam("limit")).offset(bindparam("offset"))


@lru_cache(maxsize=1024)
def _counted(query: Any) -> Any:
    """How many rows a search statement has, all pages."""
    from sqlalchemy import func, select

    return select(func.count()).select_from(
        query.limit(None).offset(None).order_by(None).subquery()
    )


def show_structure(uow: UnitOfWork, caller: TechnicalAccount, body: Any) -> dict[str, Any]:
    """``consulterStructure``: an active public structure, or the technical account's own
    (API-1, TECH-1); what its invoices must carry (``parametres``)."""
    wanted = body if isinstance(body, dict) else {}
    structure = _structure(uow, _integer(wanted, "idStructureCPP", required=True))  # type: ignore[arg-type]
    authz.require_technical_reader(uow, caller, structure)
    general = {
        "idStructureCPP": structure.id,
        "identifiantStructure": structure.identifier,
        "typeIdentifiantStructure": id_type_out(structure.id_type),
        "raisonSocialeStructure": structure.raison_sociale,
        "libelleStructure": structure.label,
        "emailStructure": structure.email,
        "structurePriveePublique": "PUBLIQUE" if structure.public else "PRIVEE",
        "estValideurDeleguee": False,
    }
    answer: dict[str, Any] = {
        "informationGenerales": {k: v for k, v in general.items() if v is not None},
        "parametres": {
            # The structure's settings (`structure update --service-code-required`).
            "codeServiceDoitEtreRenseigne": structure.service_code_required,
            "numeroEJDoitEtreRenseigne": structure.engagement_number_required,
            "gestionNumeroEJOuCodeService": False,
            "nonDiffusibleInsee": structure.non_diffusible,
            "connexionEDI": False,
            "recevoirDonneesViaEDI": False,
            "estMoaUniquement": False,
            "getaMoa": False,
            "estValideurDelegue": False,
            "statutMiseEnPaiementNestPasRemonte": False,
        },
    }
    address = _address(structure)
    if address:
        answer["adressePostaleDuSiege"] = address
    technical.record_use(uow, caller, "api.consulter_structure", structure.identifier)
    return answer


def search_services(uow: UnitOfWork, caller: TechnicalAccount, body: Any) -> dict[str, Any]:
    """``rechercherServicesStructure``: the services of an active public structure or of
    the technical account's own (API-1), inactive ones included."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Service

    wanted = body if isinstance(body, dict) else {}
    structure = _structure(uow, _integer(wanted, "idStructure", required=True))  # type: ignore[arg-type]
    authz.require_technical_reader(uow, caller, structure)
    shown, column, descending = _paging(
        _object(wanted, "parametresRechercherServicesStructure"), SERVICE_SORTS
    )
    query = select(Service).where(col(Service.structure_id) == structure.id)
    query = _ordered(query, Service, column and SERVICE_SORTS[column], descending, "code")
    rows, paging = _paged(uow, query, shown)
    technical.record_use(uow, caller, "api.rechercher_services", structure.identifier)
    return {"listeServices": [_service_shown(s) for s in rows], "parametresRetour": paging}


def show_service(uow: UnitOfWork, caller: TechnicalAccount, body: Any) -> dict[str, Any]:
    """``consulterServiceStructure``: one service of a structure the caller may read."""
    from chorus_cli.store.models import Service

    wanted = body if isinstance(body, dict) else {}
    structure = _structure(uow, _integer(wanted, "idStructure", required=True))  # type: ignore[arg-type]
    authz.require_technical_reader(uow, caller, structure)
    service_id = _integer(wanted, "idService", required=True)
    service = uow.session.get(Service, service_id) if service_id <= ID_MAX else None  # type: ignore[operator]
    if service is None or service.structure_id != structure.id:
        raise NotFound("api1.service_not_found", id=service_id, structure=structure.id)
    technical.record_use(
        uow, caller, "api.consulter_service", structure.identifier, code=service.code
    )
    return {
        "informationsGenerales": {"codeService": service.code, "nomService": service.label},
        "parametres": {
            "dateCreation": iso(service.created_at),
            "dateDebutValidite": iso(service.created_at),
            "numeroEngagement": False,
            "miseEnPaiement": False,
        },
    }


def _named_structure(uow: UnitOfWork, wanted: dict[str, Any]) -> Structure:
    structure_id = _integer(wanted, "idStructure")
    if structure_id is not None:
        return _structure(uow, structure_id)
    ident = _text(wanted, "identifiantStructure")
    if ident is None:
        raise BadInput("api1.missing", field="idStructure")
    id_type = _choice(wanted, "typeIdentifiantStructure", (*identifiers.TYPES, "AUTRE"))
    try:
        return structures.get(uow, ident, TYPE_IN.get(id_type or "", id_type))
    except NotFound:
        raise NotFound("api1.structure_not_found", id=ident) from None


def user_attachments(uow: UnitOfWork, caller: TechnicalAccount, body: Any) -> dict[str, Any]:
    """``listerRattachementsStructureUtilisateur``: the services a user of the technical
    account's own structure acts for there (all of them when attached to the whole
    structure, ATT-4), for its primary manager's «Organisation consultation»."""
    from sqlmodel import col, func, select

    from chorus_cli.store.models import Account, Attachment, Service, ServiceAttachment

    wanted = body if isinstance(body, dict) else {}
    structure = _named_structure(uow, wanted)
    authz.require_technical(uow, caller, authz.ORGANISATION, authz.CONSULTATION, structure)
    user_id = _integer(wanted, "idUtilisateur")
    email = _text(wanted, "adresseEmailConnexionUtilisateur")
    if user_id is None and email is None:
        raise BadInput("api1.missing", field="adresseEmailConnexionUtilisateur")
    who = select(Account)
    who = (
        who.where(col(Account.id) == user_id)
        if user_id is not None
        else who.where(func.lower(col(Account.login_email)) == (email or "").lower())
    )
    user = uow.session.exec(who).first() if (user_id or 0) <= ID_MAX else None
    attachment = (
        uow.session.exec(
            select(Attachment).where(
                col(Attachment.account_id) == user.id,
                col(Attachment.structure_id) == structure.id,
            )
        ).first()
        if user is not None
        else None
    )
    if attachment is None:
        raise NotFound("api1.user_not_attached", structure=structure.identifier)
    shown, column, descending = _paging(
        _object(wanted, "parametresListerRattachementsStructureUtilisateur"), ATTACHMENT_SORTS
    )
    limited = select(ServiceAttachment.service_id).where(
        col(ServiceAttachment.account_id) == user.id,  # type: ignore[union-attr]
        col(ServiceAttachment.structure_id) == structure.id,
    )
    query = select(Service).where(col(Service.structure_id) == structure.id)
    if uow.session.exec(limited.limit(1)).first() is not None:
        query = query.where(col(Service.id).in_(limited))
    query = _ordered(query, Service, column and ATTACHMENT_SORTS[column], descending, "code")
    rows, paging = _paged(uow, query, shown)
    technical.record_use(
        uow,
        caller,
        "api.lister_rattachements",
        structure.identifier,
        user=user.login_email,  # type: ignore[union-attr]
    )
    return {
        "idStructure": structure.id,
        "identifiantStructure": structure.identifier,
        "designationStructure": structure.raison_sociale,
        "listeServices": [
            {
                "idRattachement": attachment.id,
                "idService": s.id,
                "codeService": s.code,
                "nomService": s.label,
                "statutRattachement": "VALIDEE" if s.active else "DESACTIVEE",
                "dateDebut": iso(attachment.created_at),
            }
            for s in rows
        ],
        "parametresRetour": paging,
    }


def own_attachments(uow: UnitOfWork, caller: TechnicalAccount, body: Any) -> dict[str, Any]:
    """``recupererRattachementsMonCompte``: the technical account's own attachment, to
    its structure (TECH-1)."""
    structure = technical.structure_of(uow, caller)
    technical.record_use(uow, caller, "api.mon_compte_rattachements", structure.identifier)
    return {
        "listeRattachements": [
            {
                "idStructure": structure.id,
                "identifiantStructure": structure.identifier,
                "typeIdentifiantStructure": id_type_out(structure.id_type),
                "designationStructure": structure.raison_sociale,
                "statutRattachement": "VALIDEE",
            }
        ],
        "parametresRetour": {"nbResultatsParPage": 1, "pageCourante": 1, "pages": 1, "total": 1},
    }


def health(uow: UnitOfWork, caller: TechnicalAccount, body: Any = None) -> dict[str, Any]:
    """``health-check``: the store answers; a use of the technical account (TECH-2). No
    field of the request is read."""
    uow.rows(_one())
    technical.record_use(uow, caller, "api.health_check", "health-check")
    # As PISTE's answers it (a Spring ResponseEntity), which published clients read.
    return {"body": "OK", "statusCode": "OK", "statusCodeValue": 200}


# The use cases that read with ``uow.rows``/``uow.first`` only, never ``uow.session``: a
# ``store.reads.ReadUnitOfWork`` serves them (`chorus serve`'s hottest calls).
ROWS_ONLY = frozenset({search_structures, health})


def who_calls(
    uow: UnitOfWork, tokens: api_clients.Tokens, token: str, account_id: int
) -> tuple[str, Any]:
    """Who makes a call, read in one statement (every call runs it; one round trip fewer
    than two reads, measured on PostgreSQL: 1.3× the requests a second): the name of the
    API client of its bearer token, admitted as ``api_clients.admitted`` says, else
    :class:`api_clients.TokenRefused` (the token is answered for first, the account there
    or not); and the row of the technical account verified a moment ago (None: no longer
    there), to check with ``verified``."""
    claims = tokens.claimed(token, uow.clock.now())
    row = uow.first(_client_and_account(), {"client": claims[0], "account": account_id})
    api_clients.admitted(claims, row.client_registered_at if row is not None else None)
    return row.client_name, (row if row.id is not None else None)


def verified(uow: UnitOfWork, account: Any, password_hash: str) -> TechnicalAccount:
    """The technical account of a call (``who_calls``), verified a moment ago (the
    server's short cache): still there, with the same password hash (a reset, even
    within the second it was verified, changes it), not expired; else
    :class:`technical.TechnicalRefused` or :class:`technical.PasswordExpired`. A row,
    which the use cases read as they would the account (same attribute names); they
    never change it."""
    if account is None or not same(account.password_hash, password_hash):
        raise technical.TechnicalRefused()
    if account.expires_at <= uow.clock.now():
        raise technical.PasswordExpired(account.login, account.expires_at)
    return account  # type: ignore[no-any-return]


@cache
def _one() -> Any:
    from sqlalchemy import literal_column, select

    return select(literal_column("1"))


@cache
def _client_and_account() -> Any:
    """The statement of ``who_calls``, built once: the bearer token's client (none: no
    row), and beside it the technical account (none: its columns null)."""
    from sqlalchemy import bindparam, select

    from chorus_cli.store.models import ApiClient, TechnicalAccount

    account = TechnicalAccount.__table__  # type: ignore[attr-defined]
    client = ApiClient.__table__  # type: ignore[attr-defined]
    return (
        select(
            account,
            client.c.name.label("client_name"),
            client.c.created_at.label("client_registered_at"),
        )
        .select_from(client.outerjoin(account, account.c.id == bindparam("account")))
        .where(client.c.id == bindparam("client"))
    )


# --- where `chorus serve` may listen (API-3) --------------------------------------------


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (API-3)."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listening(host: str, tls_cert: bool, tls_key: bool, behind_proxy: bool) -> None:
    """API-3: loopback by default; another address only with a certificate and its key
    (HTTPS) or behind a TLS proxy; else BadInput (exit 2) naming the rule."""
    if tls_cert != tls_key:
        raise BadInput("api3.tls_pair")
    if not is_loopback(host) and not tls_cert and not behind_proxy:
        raise BadInput("api3.loopback_only", host=host)
