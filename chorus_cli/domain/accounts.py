"""Accounts: creation, activation, passwords, «Mon compte» (ACC-1..8, MFA-1, SET-1)."""

from __future__ import annotations

from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from chorus_cli.domain import links, lockout, notices, passwords, sessions, throttle
from chorus_cli.domain.secrets import hash_password, verify_password
from chorus_cli.kernel import text
from chorus_cli.kernel.clock import iso
from chorus_cli.kernel.errors import BadInput, NotAuthenticated, NotFound, RuleRefused
from chorus_cli.store.listing import WINDOW, Page, Window, fetch, mapped

if TYPE_CHECKING:
    from collections.abc import Callable

    from chorus_cli.store.models import Account
    from chorus_cli.store.shown import ShownAccount
    from chorus_cli.store.uow import UnitOfWork

ANONYMOUS = "anonymous"
SYSTEM = "system"
NAME_MAX = 100
EDITABLE = ("first_name", "last_name", "phone", "contact_email", "workplace_address", "biography")


# --- validation (ACC-1) -------------------------------------------------------------


@cache
def _email_validator() -> tuple[Any, type[Exception]]:
    # Imported on first use (90 ms), then looked up for free: a flow checks 100,000.
    from email_validator import EmailNotValidError, validate_email

    return validate_email, EmailNotValidError


# email_validator checks an address's two parts apart (the total length aside), and most
# of its time goes to the part after the @ (IDNA rules, character by character), which
# thousands of a flow's addresses share. So the domain is checked once (cached), the part
# before the @ against a short domain known to pass, and the two results joined; any
# doubt (a part refused, an overlong address) goes to the whole check, which then says
# what is wrong in its own words. tests/test_accounts.py holds both paths to one answer.
PROBE_DOMAIN = "a.fr"
ADDRESS_MAX = 254
LOCAL_MAX = 64  # octets before the @: email_validator lets longer ones through


@lru_cache(maxsize=4096)
def _domain(domain: str) -> str | None:
    validate_email, EmailNotValidError = _email_validator()
    try:
        return validate_email("postmaster@" + domain, check_deliverability=False).domain
    except EmailNotValidError:
        return None


def _address(value: str) -> str:
    """The normalised address (email_validator's ``normalized``), or its refusal."""
    validate_email, EmailNotValidError = _email_validator()
    local, at, domain = value.rpartition("@")
    known = _domain(domain) if at and local else None
    if known is not None:
        try:
            joined = validate_email(local + "@" + PROBE_DOMAIN, check_deliverability=False)
        except EmailNotValidError:
            pass
        else:
            address = joined.local_part + "@" + known
            if len(address.encode()) <= ADDRESS_MAX:
                return address
    return validate_email(value, check_deliverability=False).normalized


def normalise_email(value: str, field: str = "login_email") -> str:
    """A syntactically valid address, lower-cased: logins are unique case-insensitively."""
    _validate, EmailNotValidError = _email_validator()
    try:
        address = _address(value.strip()).lower()
    except EmailNotValidError as exc:
        raise BadInput("acc1.email_invalid", field=field, value=value, reason=str(exc)) from None
    if len(address.rpartition("@")[0].encode()) > LOCAL_MAX:  # RFC 5321 §4.5.3.1.1
        raise BadInput("acc1.local_part_too_long", field=field, value=value, max=LOCAL_MAX)
    if not address.isascii():
        _single_script(address, value, field)
    return address


def _single_script(address: str, value: str, field: str) -> None:
    """Refuse a look-alike (SEC-1): ``аdmin@…`` with a Cyrillic а reads as ``admin``.
    The part before the @ and each label of the domain keep to one script (UTS #39);
    a wholly Cyrillic or Greek address stays welcome."""
    local, _, domain = address.rpartition("@")
    for part in (local, *domain.split(".")):
        mixed = text.mixed_scripts(part)
        if mixed:
            raise BadInput(
                "sec1.mixed_scripts", field=field, value=value, part=part, scripts=" + ".join(mixed)
            )


# The overseas departments dial like metropolitan France (0 and nine digits) but have
# country codes of their own: 0262 12 34 56 is Réunion's +262 262 12 34 56. (Saint-
# Martin and Saint-Barthélemy share Guadeloupe's numbering; Saint-Pierre-et-Miquelon's
# six-digit numbers would read a mistyped mobile as valid, so it is left out.)
OVERSEAS_REGIONS = ("RE", "GP", "MQ", "GF", "YT")


def normalise_phone(value: str | None) -> str | None:
    """E.164, French national formats accepted (``01 23 45 67 89``), the overseas
    departments' too (``0590 12 34 56`` in Guadeloupe)."""
    if value is None or not value.strip():
        return None
    import phonenumbers

    national = value.strip()[:1] != "+"
    digits = sum(c.isdigit() for c in value)
    regions = ("FR", *OVERSEAS_REGIONS) if national and digits == 10 else ("FR",)
    for region in regions:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            break
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise BadInput("acc1.phone_invalid", value=value)


def phone_from_sheet(value: str | None) -> tuple[str | None, bool]:
    """A phone as a spreadsheet may have kept it (OUT-4): ``normalise_phone``'s E.164, or,
    when that refuses digits alone that a spreadsheet stored as a number and so lost
    their ``+`` (``33612345678``, ``4915112345678``), the international number they are
    once the ``+`` is put back, if that is a valid E.164 number. The flag says the ``+``
    was put back (the caller warns); BadInput (ACC-1) as ``normalise_phone`` otherwise."""
    digits = (value or "").strip()
    bare = digits.isascii() and digits.isdigit() and digits[:1] != "0"
    try:
        phone = normalise_phone(value)
    except BadInput:
        if not bare or len(digits) > 15:  # E.164: at most 15 digits
            raise
        import phonenumbers

        try:
            number = phonenumbers.parse("+" + digits, None)
        except phonenumbers.NumberParseException:
            raise BadInput("acc1.phone_invalid", value=value) from None
        if not phonenumbers.is_valid_number(number):
            raise
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), True
    # 33612345678 read in France is +33 6 12 34 56 78 already: its + was lost too.
    return phone, bare and phone == "+" + digits


def normalise_name(value: str | None, field: str) -> str:
    value = " ".join(text.check(value or "", field).split())
    if not value:
        raise BadInput("acc1.missing", field=field)
    if len(value) > NAME_MAX:
        raise BadInput("field.too_long", field=field, max=NAME_MAX)
    return value


# --- queries ------------------------------------------------------------------------


def find(uow: UnitOfWork, email: str) -> Account | None:
    from sqlmodel import col, select

    from chorus_cli.store.models import Account

    return uow.session.exec(
        select(Account).where(col(Account.login_email) == email.strip().lower())
    ).first()


def get(uow: UnitOfWork, email: str) -> Account:
    account = find(uow, email)
    if account is None:
        raise NotFound("account.not_found", email=email)
    return account


def status(uow: UnitOfWork, account: ShownAccount) -> str:
    """pending|active|locked|deactivated|suspended; «locked» is derived from the lockout
    time."""
    if account.status == "active" and lockout.is_locked(uow, account):
        return "locked"
    return account.status


# The fields of ``view``, in its order: what commands showing an account declare (OUT-3)
# and what `bulk export accounts` writes (OPS-2).
VIEW_FIELDS = (
    "login_email", "contact_email", "first_name", "last_name", "phone", "status",
    "workplace_address", "biography", "language", "created_at", "activated_at",
    "to_complete", "photo",
)  # fmt: skip


def view(uow: UnitOfWork, account: ShownAccount, photo_size: int | None = None) -> dict[str, Any]:
    """The account as scripts see it (SPEC's JSON fields first; ``VIEW_FIELDS``).

    ``photo_size``: the photo's size in bytes when the query read it, so that a listing
    never loads the photos themselves (SET-1)."""
    from chorus_cli.domain import photo

    return {
        "login_email": account.login_email,
        "contact_email": account.contact_email,
        "first_name": account.first_name,
        "last_name": account.last_name,
        "phone": account.phone,
        "status": status(uow, account),
        "workplace_address": account.workplace_address,
        "biography": account.biography,
        "language": account.language,
        "created_at": iso(account.created_at),
        "activated_at": iso(account.activated_at),
        "to_complete": account.to_complete,
        "photo": photo.describe(account, photo_size),
    }


# PUB-2: what an account initialised from MADRHAS data is asked to complete when empty.
TO_COMPLETE = ("phone", "workplace_address")


def missing_fields(account: Account) -> list[str]:
    """The fields of «Mon compte» a MADRHAS-initialised account should complete (PUB-2)."""
    return [name for name in TO_COMPLETE if not getattr(account, name)]


# --- creation and activation (ACC-1..4) ---------------------------------------------


# The columns of a new account row, in order (``new_row``: a command's and a flow's).
NEW_ACCOUNT_COLUMNS = (
    "id",
    "login_email",
    "contact_email",
    "first_name",
    "last_name",
    "phone",
    "workplace_address",
    "biography",
    "language",
    "accessibility",
    "survey_consent",
    "status",
    "failed_logins",
    "created_at",
    "to_complete",
)


def new_row(
    account_id: int | None,
    login: str,
    contact_email: str | None,
    first_name: str,
    last_name: str,
    phone: str | None,
    language: str,
    created_at: Any,
    to_complete: bool,
    workplace_address: str | None = None,
    biography: str | None = None,
) -> tuple:
    """A new account (``NEW_ACCOUNT_COLUMNS``), for ``create`` and an accounts flow alike,
    from checked values: pending until activated (ACC-3), its contact address its login
    unless another is given (ACC-1), no accessibility or survey choice yet, marked to
    complete when initialised for its owner (PUB-2). A plain tuple: a flow makes one per
    row."""
    return (
        account_id,
        login,
        contact_email or login,
        first_name,
        last_name,
        phone,
        workplace_address,
        biography,
        language,
        False,
        False,
        "pending",
        0,
        created_at,
        to_complete,
    )


# A ``new_row`` as activation leaves it (ACC-3), for the seed's accounts (OPS-3).
ACTIVATED_COLUMNS = (*NEW_ACCOUNT_COLUMNS, "password_hash", "activated_at")
_STATUS = NEW_ACCOUNT_COLUMNS.index("status")


def activated_row(row: tuple, password_hash: str | None, activated_at: Any) -> tuple:
    """``new_row`` (``ACTIVATED_COLUMNS``) active since ``activated_at`` with its password's
    hash (ACC-3); with ``password_hash`` None, the account is still pending."""
    if password_hash is None:
        return (*row, None, None)
    return (*row[:_STATUS], "active", *row[_STATUS + 1 :], password_hash, activated_at)


DEFAULT_LANGUAGE = "fr"  # SPEC: French unless the person chose otherwise


class Activation(NamedTuple):
    """What a new account's activation writes, decided once (ACC-3, OPS-4) for
    ``create`` and for an accounts flow alike: its link's token hash (the token itself
    is only in the mail), its mail in the account's language, its ``account.create``
    audit details. Plain values: a flow makes one per row, perhaps in a worker process."""

    token_hash: str
    subject: str
    body: str
    body_redacted: str  # the mail as the outbox shows it, the link left out
    audit_details: dict[str, Any]


ACTIVATION_PURPOSE = "activate"
ACTIVATION_TTL = links.LINK_TTL  # ACC-3, PUB-3: 60 minutes, public entity or not


def new_language(given: str | None, own: str | None = None) -> str:
    """The language of a new account, which its mails are written in: the one given,
    else the language of the person creating their own account (``own``: the CLI's),
    else French. An account made for someone else (by a correspondent, by a flow) never
    takes its creator's language."""
    return given or own or DEFAULT_LANGUAGE


def activation(
    *,
    base_url: str,
    login: str,
    first_name: str,
    last_name: str,
    language: str,
    phone: bool,
    to_complete: bool,
) -> Activation:
    """A new account's activation link and mail, and its audit details (ACC-3, ACC-8:
    only the token's hash is kept; OPS-4: whether a phone was given and whether the
    account is to complete, nothing secret)."""
    from chorus_cli.domain.secrets import new_token, token_hash
    from chorus_cli.mail.templates import render

    token = new_token()
    link = f"{base_url}/{links.PATHS[ACTIVATION_PURPOSE]}?token={token}"
    subject, body, redacted = render(
        "activation",
        language,
        first_name=text.displayed(first_name),  # SEC-1, as every mail (notices.send)
        last_name=text.displayed(last_name),
        login_email=text.displayed(login),
        link=link,
    )
    details = {"phone": phone, "to_complete": to_complete}
    return Activation(token_hash(token), subject, body, redacted, details)


def create(
    uow: UnitOfWork,
    *,
    email: str,
    last_name: str,
    first_name: str,
    phone: str | None = None,
    contact_email: str | None = None,
    actor: str = ANONYMOUS,
    language: str | None = None,
    rate_limited: bool = True,
    public: bool = False,
) -> Account:
    """Create a pending account and mail its 60-minute activation link (ACC-1..3, ACC-7).

    ``public``: a public-entity account created for its owner by a correspondent or an
    admin (PUB-1): marked to complete at first login (PUB-2), mailed from the PUB-3
    sender, in French unless a language is given (not its creator's).
    """
    from chorus_cli.store.models import Account

    login = normalise_email(email)
    fields = {
        "login_email": login,
        "contact_email": normalise_email(contact_email, "contact_email")
        if contact_email
        else login,
        "last_name": normalise_name(last_name, "last_name"),
        "first_name": normalise_name(first_name, "first_name"),
        "phone": normalise_phone(phone),
    }
    if find(uow, login) is not None:
        raise RuleRefused("acc2.exists", email=login)
    mail_from = notices.sender(uow, public)  # SEC-8: a bad sender is bad input, first
    if rate_limited:
        throttle.spend(uow, login)
    lang = new_language(language, None if public else uow.lang)
    row = new_row(
        None,
        login,
        fields["contact_email"],
        fields["first_name"],
        fields["last_name"],
        fields["phone"],
        lang,
        uow.clock.now(),
        to_complete=public,
    )
    account = uow.add(Account(**dict(zip(NEW_ACCOUNT_COLUMNS[1:], row[1:], strict=True))))
    made = activation(
        base_url=uow.settings.base_url,
        login=login,
        first_name=account.first_name,
        last_name=account.last_name,
        language=lang,
        phone=bool(fields["phone"]),
        to_complete=public,
    )
    links.record(uow, account, ACTIVATION_PURPOSE, made.token_hash, ACTIVATION_TTL)
    notices.queue(uow, "activation", login, mail_from, made.subject, made.body, made.body_redacted)
    uow.audit(actor, "account.create", login, **made.audit_details)
    return account


def _set_password(uow: UnitOfWork, account: Account, password: str) -> None:
    """Check ACC-5 against the account and its last five passwords, then store the hash."""
    from sqlmodel import col, select

    from chorus_cli.store.models import PasswordHistory

    history = uow.session.exec(
        select(PasswordHistory)
        .where(col(PasswordHistory.account_id) == account.id)
        .order_by(col(PasswordHistory.id).desc())
    ).all()
    password = passwords.check(
        password,
        login_email=account.login_email,
        first_name=account.first_name,
        last_name=account.last_name,
        previous_hashes=[h.password_hash for h in history[: passwords.HISTORY]],
    )
    account.password_hash = hash_password(password)
    uow.add(account)
    uow.add(
        PasswordHistory(
            account_id=account.id, password_hash=account.password_hash, created_at=uow.clock.now()
        )
    )
    for old in history[passwords.HISTORY - 1 :]:
        uow.session.delete(old)
    # A new password voids the links still out (SECURITY.md test idea 7).
    links.void(uow, account, ("activate", "reset"))


def _activate(uow: UnitOfWork, account: Account) -> None:
    account.status = "active"
    account.activated_at = uow.clock.now()
    uow.add(account)
    notices.notify(uow, account, "activated")


def _account_by_link(uow: UnitOfWork, link: str) -> Account:
    """Use up an activation or reset link and return its account (ACC-3, ACC-6)."""
    from chorus_cli.store.models import Account

    token = links.consume(uow, link, ("activate", "reset"))
    account = uow.session.get(Account, token.account_id)
    if account.status == "deactivated":
        raise RuleRefused("acc.deactivated")
    if account.status == "suspended":
        raise RuleRefused("mem4.account_suspended", email=account.login_email)
    return account


def activate(uow: UnitOfWork, link: str, password: str) -> Account:
    """Set the first password through the activation link (ACC-3, ACC-4).

    The reset link of 1.7.3 works here too; on an account already active it resets the
    password exactly as ``reset_password`` does (notice, sessions ended).
    """
    account = _account_by_link(uow, link)
    if account.status != "pending":
        return _reset(uow, account, password)
    _set_password(uow, account, password)
    _activate(uow, account)
    uow.audit(account.login_email, "account.activate", account.login_email)
    return account


def forgot_password(uow: UnitOfWork, email: str) -> None:
    """Mail a reset link if the account exists; the answer never says whether it does (ACC-6)."""
    login = normalise_email(email)
    # Counted apart from the creation's mail: the limit then says nothing about what
    # else happened to the address lately (its creation, a change of address), only
    # about these requests.
    throttle.spend(uow, login, kind="reset")
    account = find(uow, login)
    if account is None or account.status in ("deactivated", "suspended"):
        return
    link = links.issue(uow, account, "reset")
    notices.notify(uow, account, "reset", to=account.login_email, link=link)
    uow.audit(ANONYMOUS, "account.forgot_password", account.login_email)


def reset_password(uow: UnitOfWork, link: str, password: str) -> Account:
    """Choose a new password through a reset link; a pending account is activated too (ACC-6).

    Second factors stay in place, and every open session ends.
    """
    return _reset(uow, _account_by_link(uow, link), password)


def _reset(uow: UnitOfWork, account: Account, password: str) -> Account:
    _set_password(uow, account, password)
    account.failed_logins = 0
    account.locked_until = None
    if account.status == "pending":
        _activate(uow, account)
    else:
        notices.notify(uow, account, "password_changed")
    sessions.end_sessions(uow, account)
    uow.audit(account.login_email, "account.reset_password", account.login_email)
    return account


# --- «Mon compte» (SET-1, MFA-1) ----------------------------------------------------


def update(uow: UnitOfWork, account: Account, changes: dict[str, str | None]) -> Account:
    """Edit the fields of «Mon compte»; the login address changes only through LA rules."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise BadInput("account.not_editable", field=sorted(unknown)[0])
    if not changes:
        raise BadInput("account.nothing_to_update")
    clean: dict[str, str | None] = {}
    for field, value in changes.items():
        if field in ("first_name", "last_name"):
            clean[field] = normalise_name(value, field)
        elif field == "phone":
            clean[field] = normalise_phone(value)
        elif field == "contact_email":
            clean[field] = normalise_email(value or "", field)
        else:
            limit = 500 if field == "workplace_address" else 2000
            value = text.check((value or "").strip(), field, multiline=True) or None
            if value and len(value) > limit:
                raise BadInput("field.too_long", field=field, max=limit)
            clean[field] = value
    for field, value in clean.items():
        setattr(account, field, value)
    completed = account.to_complete
    account.to_complete = False  # PUB-2: the owner has reviewed «Mon compte»
    uow.add(account)
    uow.audit(
        account.login_email,
        "account.update",
        account.login_email,
        fields=sorted(clean),
        **({"completed": True} if completed else {}),
    )
    return account


def change_password(
    uow: UnitOfWork, account: Account, current: Callable[[], str], new: Callable[[], str]
) -> None:
    """MFA-1: the current password first, then the new one, both asked with no
    transaction open (SEC-4); ACC-5 applies; a notice is mailed (MFA-5); committed."""
    uow.commit()
    typed, chosen = current(), new()
    if not verify_password(account.password_hash, passwords.typed(typed)):
        lockout.record_failure(uow, account)
        raise NotAuthenticated("mfa1.current_wrong")
    _set_password(uow, account, chosen)
    notices.notify(uow, account, "password_changed")
    sessions.end_sessions(uow, account, keep=uow.session_id)
    uow.audit(account.login_email, "account.password", account.login_email)
    uow.commit()


def unlock(uow: UnitOfWork, actor: Account, email: str) -> Account:
    """Support lifts a lockout (AUTH-2); that of a platform role holder, an admin only
    (PUB-1)."""
    from chorus_cli.domain import authz

    authz.require_role(uow, actor, *authz.SUPPORT)
    account = get(uow, email)
    authz.require_access_keeper(uow, actor, account, "auth2.admin_only")
    account.failed_logins = 0
    account.locked_until = None
    uow.add(account)
    uow.audit(actor.login_email, "account.unlock", account.login_email)
    return account


# --- listings (support, admins, correspondents) --------------------------------------

STATUSES = ("pending", "active", "locked", "deactivated", "suspended")


def listing(
    uow: UnitOfWork,
    actor: Account,
    *,
    status: str | None = None,
    structure: str | None = None,
    id_type: str | None = None,
    search: str | None = None,
    shown: Window = WINDOW,
) -> Page:
    """Accounts by login (the rows of ``shown``, OUT-2), for support and admins (all)
    and correspondents (the accounts attached to public structures of their
    departments); anyone else: exit 4.

    ``status`` is one of SPEC's (``locked`` derived from the lock time); ``structure``
    keeps its members; ``search``: every word found in the login, first or last name."""
    from sqlalchemy import bindparam
    from sqlalchemy.orm import defer
    from sqlmodel import and_, col, exists, func, or_, select, text

    from chorus_cli.domain import authz, structure_lookup
    from chorus_cli.domain.departments import department_sql
    from chorus_cli.store.models import Account, Attachment, Structure

    scope = authz.oversight_scope(uow, actor)
    if status is not None and status not in STATUSES:
        raise BadInput("list.status", status=status, statuses=", ".join(STATUSES))
    # The photos stay in the store: their sizes are enough (SET-1).
    query = select(Account, func.length(col(Account.photo))).options(defer(Account.photo))
    if not scope.everywhere:
        area = department_sql("structure.postal_code")
        in_scope = text(f"({area}) IN :departments").bindparams(
            bindparam("departments", value=sorted(scope.departments), expanding=True)
        )
        query = query.where(
            exists()
            .where(col(Attachment.account_id) == col(Account.id))
            .where(col(Attachment.structure_id) == col(Structure.id))
            .where(col(Structure.public).is_(True))
            .where(in_scope)
        )
    if structure is not None:
        target = structure_lookup.get(uow, structure, id_type)
        if not scope.covers(target.public, target.postal_code):
            from chorus_cli.kernel.errors import NotAllowed

            raise NotAllowed("pub1.out_of_scope", structure=target.identifier)
        query = query.where(
            exists()
            .where(col(Attachment.account_id) == col(Account.id))
            .where(col(Attachment.structure_id) == target.id)
        )
    locked = and_(
        col(Account.locked_until).is_not(None), col(Account.locked_until) > uow.clock.now()
    )
    if status == "locked":
        query = query.where(col(Account.status) == "active", locked)
    elif status == "active":
        query = query.where(col(Account.status) == "active", ~locked)
    elif status is not None:
        query = query.where(col(Account.status) == status)
    searched = (col(Account.login_email), col(Account.first_name), col(Account.last_name))
    for word in (search or "").lower().split():
        query = query.where(
            or_(*(func.lower(column).contains(word, autoescape=True) for column in searched))
        )
    query = query.order_by(col(Account.login_email))
    return mapped(fetch(uow, query, shown), lambda row: view(uow, *row))
