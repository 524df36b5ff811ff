"""Technical accounts («Raccordements – Compte technique», guide 2.4.1): TECH-1, TECH-2.

A technical account lets a structure's software (an ERP, an invoicing tool) call the
Chorus Pro API on the structure's behalf. Its login follows the portal's pattern,
``TECH_<n>_<identifier>@cpro.fr`` (``n``: 1, 2… within the structure); its password is
generated (``secrets``), printed once and stored only as an Argon2 hash (the accounts'
own hasher, ``secrets.hash_password``); it expires 424 days after it was set (TECH-2).

**Data model: a table of its own** (``technical_account``), not a row of ``account``
with a kind. An ``account`` row is a person: it receives mail (notices, the weekly
summary, attachment requests to handle), logs in, holds factors, profiles and
attachments that managers grant and remove, and dozens of use cases and listings read
it. A technical account does none of that: it never logs in interactively, has no
second factor, receives no mail, and its rights are not granted to it but borrowed:
*those of the structure's primary manager on that structure* (``authz.technical_*``),
so they follow the primary manager as they change (a transfer, a profile removed)
instead of being a copy that goes stale. A separate table keeps every existing query
about people true without a ``kind`` filter in each; where technical accounts should be
seen with people, they are added explicitly: ``structure members`` (role
``technical``), ``bulk export technical``, the audit log (actor: the login).

Use cases for the command line: :func:`create`, :func:`listing`, :func:`reset_password`,
:func:`deletion`/:func:`delete`. For the API server (``chorus serve``): :func:`authenticate`
(login + password → the account, or :class:`TechnicalRefused` / :class:`PasswordExpired`),
:func:`refused_again` (a refusal remembered a moment ago that still stands, no Argon2),
:func:`record_use` (an audit row with the technical account as actor, and its last-use
time), and the rights in ``authz``: ``technical_allowed``/``require_technical``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chorus_cli.domain import authz, structure_lookup
from chorus_cli.domain.secrets import hash_password, needs_rehash, verify_password
from chorus_cli.kernel.clock import iso
from chorus_cli.kernel.errors import NotAuthenticated, NotFound, RuleRefused
from chorus_cli.store.listing import WINDOW, Page, Window, fetch

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, Structure, TechnicalAccount
    from chorus_cli.store.shown import ShownAccount
    from chorus_cli.store.uow import UnitOfWork

# TECH-2: a password lives 424 days from the moment it was set.
PASSWORD_LIFETIME = timedelta(days=424)
DOMAIN = "cpro.fr"
# A login in the portal's pattern, as typed (any case).
LOGIN_PATTERN = re.compile(r"^tech_\d+_\S+@cpro\.fr$", re.IGNORECASE)
PASSWORD_BYTES = 24  # 32 URL-safe characters, 192 bits
SPECIALS = "-_"

FIELDS = (
    "login",
    "structure",
    "raison_sociale",
    "status",
    "created_at",
    "created_by",
    "password_set_at",
    "expires_at",
    "last_used_at",
)
ISSUED_FIELDS = ("login", "password", "structure", "expires_at")  # ``Issued.view``'s


# What a refused password was checked against: the account's id and password hash
# (None, None: no account of that login).
Checked = tuple[int | None, str | None]


class TechnicalRefused(NotAuthenticated):
    """Unknown login or wrong password: one error for both (API-2: nothing reveals
    whether a login exists). Exit 5. ``checked``: what :func:`authenticate` checked the
    password against, for :func:`refused_again` (never shown: the message is the same)."""

    def __init__(self, checked: Checked | None = None) -> None:
        super().__init__("tech1.refused")
        self.checked = checked


class PasswordExpired(NotAuthenticated):
    """The password was right but is older than 424 days (TECH-2): only its primary
    manager (or an admin) can give it a new one. Exit 5."""

    def __init__(self, login: str, expired_at: datetime) -> None:
        super().__init__("tech2.password_expired", login=login, at=iso(expired_at))


def is_login(text: str) -> bool:
    """Whether ``text`` reads as a technical login (``TECH_<n>_…@cpro.fr``, any case)."""
    return bool(LOGIN_PATTERN.match(text.strip()))


def login_for(structure: Structure, number: int) -> str:
    return f"TECH_{number}_{structure.identifier}@{DOMAIN}"


def new_password() -> str:
    """A generated password: 32 characters from ``secrets``, with a lower-case and an
    upper-case letter, a digit and a ``-`` or ``_`` (the classes ACC-5 asks of people's),
    never starting with ``-`` (it would be read as an option when pasted)."""
    while True:
        password = secrets.token_urlsafe(PASSWORD_BYTES)
        if (
            not password.startswith("-")
            and any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
            and any(c in SPECIALS for c in password)
        ):
            return password


@dataclass
class Issued:
    """A technical account with the password just set: shown once, never stored
    (``ISSUED_FIELDS``)."""

    account: TechnicalAccount
    structure: Structure
    password: str

    def view(self) -> dict[str, Any]:
        return {
            "login": self.account.login,
            "password": self.password,
            "structure": self.structure.identifier,
            "expires_at": iso(self.account.expires_at),
        }


def find(uow: UnitOfWork, login: str) -> TechnicalAccount | None:
    """The technical account with this login (case-insensitive), if any."""
    from sqlmodel import col, select

    from chorus_cli.store.models import TechnicalAccount

    return uow.session.exec(
        select(TechnicalAccount).where(col(TechnicalAccount.login_key) == login.strip().lower())
    ).first()


def _get(uow: UnitOfWork, login: str) -> tuple[TechnicalAccount, Structure]:
    from chorus_cli.store.models import Structure

    account = find(uow, login)
    if account is None:
        raise NotFound("tech.not_found", login=login.strip())
    structure = uow.session.get(Structure, account.structure_id)
    assert structure is not None  # the foreign key cascades
    return account, structure


def _check_password(password: str, login: str) -> str:
    """A password given rather than generated (`seed --technical-password-stdin`)
    follows ACC-5 like a person's."""
    from chorus_cli.domain import passwords

    return passwords.check(password, login_email=login, first_name="", last_name="")


def _set_password(uow: UnitOfWork, account: TechnicalAccount, password: str) -> None:
    now = uow.clock.now()
    account.password_hash = hash_password(password)
    account.password_set_at = now
    account.expires_at = now + PASSWORD_LIFETIME


def create(
    uow: UnitOfWork,
    actor: Account | None,
    ident: str | Structure,
    id_type: str | None = None,
    *,
    password: str | None = None,
) -> Issued:
    """TECH-1: a new technical account for the structure, by its primary manager or an
    admin (``actor=None``: the store itself, `chorus seed`). Its password is generated
    unless given; both are returned once. The structure must be active."""
    from sqlmodel import col, func, select

    from chorus_cli.store.models import TechnicalAccount

    structure = ident if not isinstance(ident, str) else structure_lookup.get(uow, ident, id_type)
    if actor is not None:
        authz.require_technical_keeper(uow, actor, structure)
    if structure.status != "active":
        raise RuleRefused("tech1.structure_not_active", structure=structure.identifier)
    last = uow.session.exec(
        select(func.max(col(TechnicalAccount.number))).where(
            col(TechnicalAccount.structure_id) == structure.id
        )
    ).one()
    number = (last or 0) + 1
    login = login_for(structure, number)
    password = new_password() if password is None else _check_password(password, login)
    now = uow.clock.now()
    account = TechnicalAccount(
        login=login,
        login_key=login.lower(),
        number=number,
        structure_id=structure.id,  # type: ignore[arg-type]
        password_hash="",
        password_set_at=now,
        expires_at=now,
        created_at=now,
        created_by=actor.login_email if actor is not None else "system",
    )
    _set_password(uow, account, password)
    uow.session.add(account)
    uow.session.flush()
    uow.audit(
        account.created_by,
        "technical.create",
        login,
        structure=structure.identifier,
        expires_at=iso(account.expires_at),
    )
    return Issued(account, structure, password)


def reset_password(uow: UnitOfWork, actor: Account, login: str) -> Issued:
    """TECH-2: a new generated password, printed once, and a new 424-day expiry; by the
    structure's primary manager or an admin."""
    account, structure = _get(uow, login)
    authz.require_technical_keeper(uow, actor, structure)
    password = new_password()
    _set_password(uow, account, password)
    uow.audit(
        actor.login_email,
        "technical.reset_password",
        account.login,
        structure=structure.identifier,
        expires_at=iso(account.expires_at),
    )
    return Issued(account, structure, password)


def deletion(uow: UnitOfWork, actor: Account, login: str) -> TechnicalAccount:
    """What ``delete`` would delete, checked (asked before the confirmation)."""
    account, structure = _get(uow, login)
    authz.require_technical_keeper(uow, actor, structure)
    return account


def delete(uow: UnitOfWork, actor: Account, login: str) -> TechnicalAccount:
    """TECH-2: delete a technical account; its audit rows stay."""
    account, structure = _get(uow, login)
    authz.require_technical_keeper(uow, actor, structure)
    uow.session.delete(account)
    uow.audit(actor.login_email, "technical.delete", account.login, structure=structure.identifier)
    return account


def status(account: TechnicalAccount, now: datetime) -> str:
    """``active``, or ``expired`` once its password is 424 days old (TECH-2)."""
    return "expired" if account.expires_at <= now else "active"


def view(account: TechnicalAccount, structure: Structure, now: datetime) -> dict[str, Any]:
    return {
        "login": account.login,
        "structure": structure.identifier,
        "raison_sociale": structure.raison_sociale,
        "status": status(account, now),
        "created_at": iso(account.created_at),
        "created_by": account.created_by,
        "password_set_at": iso(account.password_set_at),
        "expires_at": iso(account.expires_at),
        "last_used_at": iso(account.last_used_at) if account.last_used_at else None,
    }


def listing(
    uow: UnitOfWork,
    actor: ShownAccount,
    structure: str | None = None,
    id_type: str | None = None,
    *,
    shown: Window = WINDOW,
) -> Page:
    """TECH-2: the technical accounts the actor may see, by login: of one structure
    (for those who see its members, MEM-1), or of every structure they see the
    members of (support and admin: all)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Structure, TechnicalAccount

    query = select(TechnicalAccount, Structure).join(
        Structure, col(Structure.id) == col(TechnicalAccount.structure_id)
    )
    if structure is not None:
        where = structure_lookup.get(uow, structure, id_type)
        authz.require_members_reader(uow, actor, where)
        query = query.where(col(TechnicalAccount.structure_id) == where.id)
    else:
        visible = authz.technical_visible_structures(uow, actor)
        if visible is not None:
            query = query.where(col(TechnicalAccount.structure_id).in_(visible or [-1]))
    page = fetch(uow, query.order_by(col(TechnicalAccount.login_key)), shown)
    now = uow.clock.now()
    return Page([view(a, s, now) for a, s in page.rows], page.total)


def of_structure(uow: UnitOfWork, structure: Structure) -> list[TechnicalAccount]:
    """The structure's technical accounts, by login (for ``structure members``)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import TechnicalAccount

    return list(
        uow.session.exec(
            select(TechnicalAccount)
            .where(col(TechnicalAccount.structure_id) == structure.id)
            .order_by(col(TechnicalAccount.login_key))
        ).all()
    )


# --- for the API server (API-2) --------------------------------------------------------


def authenticate(uow: UnitOfWork, login: str, password: str) -> TechnicalAccount:
    """The technical account a ``cpro-account`` header names, its password checked.

    An unknown login and a wrong password raise the same :class:`TechnicalRefused`,
    after the same Argon2 work (a dummy hash when the login is unknown: no timing
    oracle); :class:`PasswordExpired` only once the password is proven right. Changes
    nothing but a rehash at current parameters; the caller records the use
    (:func:`record_use`)."""
    if not password:
        raise TechnicalRefused()
    account = find(uow, login) if is_login(login) else None
    ok = verify_password(account.password_hash if account else None, password)
    if account is None or not ok:
        raise TechnicalRefused(_checked(account))
    now = uow.clock.now()
    if account.expires_at <= now:
        raise PasswordExpired(account.login, account.expires_at)
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return account


def _checked(account: TechnicalAccount | None) -> Checked:
    return (account.id, account.password_hash) if account is not None else (None, None)


def refused_again(uow: UnitOfWork, login: str, checked: Checked) -> None:
    """A refusal of a header naming ``login`` remembered a moment ago (the server's short
    cache of refusals) that still stands: :class:`TechnicalRefused`, without Argon2 (the
    same password against the same hash would be refused again). It stands while the
    login names the account it was checked against with the same password hash (or still
    no account); a reset, a rehash, an account created since change that, and the header
    is to be verified again (:func:`authenticate`): returns. The same read, one look-up
    by login, for an unknown login as for a wrong password, as :func:`authenticate`'s
    (nothing tells them apart)."""
    account = find(uow, login) if is_login(login) else None
    if _checked(account) == checked:
        raise TechnicalRefused(checked)


def record_use(
    uow: UnitOfWork, account: TechnicalAccount, action: str, target: str, **details: Any
) -> None:
    """TECH-2: every use is audited with the technical account as actor; its last-use
    time is kept (``last_used_at``). Written by ``store.journal.write``: a moment later
    in a batch when the unit of work has a journal (`chorus serve`), else now, in the
    unit of work's transaction."""
    from chorus_cli.store import journal

    use = journal.Use(uow.clock.now(), account.login, action, target, details, account.id)
    if uow.journal is not None:
        uow.journal.record(use)
    else:
        journal.write(uow.session.connection(), [use])


def structure_of(uow: UnitOfWork, account: TechnicalAccount) -> Structure:
    """The structure the technical account belongs to."""
    from chorus_cli.store.models import Structure

    structure = uow.session.get(Structure, account.structure_id)
    if structure is None:  # deleted meanwhile: the account went with it
        raise NotFound("tech.not_found", login=account.login)
    return structure


def seed_all(uow: UnitOfWork, password: str | None = None) -> tuple[int, str]:
    """`chorus seed --technical-accounts`: ``TECH_1_<identifier>@cpro.fr`` for every
    active structure that has none (deterministic logins), all with one password,
    generated unless given (ACC-5 applies then), hashed once; audited as ``system``.
    Returns how many were made and the password (to print once)."""
    from sqlalchemy import insert
    from sqlmodel import col, select

    from chorus_cli.store.models import Structure, TechnicalAccount

    password = new_password() if password is None else _check_password(password, "")
    digest = hash_password(password)
    now = uow.clock.now()
    expires = now + PASSWORD_LIFETIME
    having = select(TechnicalAccount.structure_id)
    query = (
        select(Structure.id, Structure.identifier)
        .where(col(Structure.status) == "active", col(Structure.id).not_in(having))
        .order_by(col(Structure.id))
    )
    rows = [
        {
            "login": (login := f"TECH_1_{identifier}@{DOMAIN}"),
            "login_key": login.lower(),
            "number": 1,
            "structure_id": structure_id,
            "password_hash": digest,
            "password_set_at": now,
            "expires_at": expires,
            "created_at": now,
            "created_by": "system",
        }
        for structure_id, identifier in uow.session.exec(query).all()
    ]
    table = TechnicalAccount.__table__  # type: ignore[attr-defined]
    for start in range(0, len(rows), 1000):
        uow.session.execute(insert(table), rows[start : start + 1000])
    uow.audit("system", "technical.seed", "store", count=len(rows), expires_at=iso(expires))
    return len(rows), password
