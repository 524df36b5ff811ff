"""Log-in with a second factor, and the sessions it opens (AUTH-1, AUTH-3..5).

Failed proofs count toward the lockout in ``lockout`` (AUTH-2), and an account's
sessions are ended in ``sessions``: both are leaves, so that ``accounts``, the factors
and ``deactivation``, which this module imports, need not import it back. The factors
and ``deactivation`` are imported by the log-in's steps that use them: a command that
only reads its session (``whoami``) needs neither.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from chorus_cli.domain import accounts, lockout, membership, passwords, roles
from chorus_cli.domain.secrets import (
    hash_password,
    needs_rehash,
    new_token,
    token_hash,
    verify_password,
)
from chorus_cli.kernel.errors import BadInput, LinkExpired, NotAuthenticated, RuleRefused, WrongCode

if TYPE_CHECKING:
    from chorus_cli.store.account_record import AccountRecord
    from chorus_cli.store.models import Account, LoginChallenge
    from chorus_cli.store.shown import ShownAccount
    from chorus_cli.store.uow import UnitOfWork

CODE_TTL = timedelta(minutes=10)
CODE_TRIES = 5
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=10)


class Pending(NamedTuple):
    """A login that passed the password and waits for its second factor. (Named tuples,
    this and ``Opened``: a dataclass costs every command that imports this module,
    ``whoami`` too, about a millisecond to define.)"""

    attempt: str  # the attempt's secret: kept by the client, hashed in the store
    method: str
    email: str
    expires_at: Any
    data: dict[str, Any] | None = None  # what the client needs to answer (WebAuthn options)


class Opened(NamedTuple):
    token: str
    account: Account


def _expected_status(purpose: str) -> str:
    return "deactivated" if purpose == "reactivate" else "active"


def check_password(
    uow: UnitOfWork,
    email: str,
    password: str,
    method: str | None = None,
    typed: bool = False,
    purpose: str = "login",
) -> Pending:
    """Check the password, then start the second factor (AUTH-1, AUTH-2, AUTH-4).

    Wrong address, wrong password, pending, locked or deactivated account: one answer;
    a suspended account (MEM-4) is told so once its password is right.
    The factor is ``method``, else the account's strongest (key, TOTP app, mailed code);
    ``typed``: a code is already given, so the default is a factor that takes one.
    ``purpose`` ``reactivate`` (SET-4): the same proof for a deactivated account; once
    the password is right, an account that is not deactivated is told so (exit 1).
    """
    from chorus_cli.domain import factors
    from chorus_cli.store.models import LoginChallenge

    if method is not None and method not in factors.METHODS:
        raise BadInput("auth1.method_unknown", method=method, methods=", ".join(factors.METHODS))
    password = passwords.typed(password)
    account = accounts.find(uow, email)
    ok = verify_password(account.password_hash if account else None, password)
    if account is None:
        raise NotAuthenticated("auth2.refused")
    wanted = _expected_status(purpose)
    if lockout.is_locked(uow, account) or account.status not in (wanted, "active", "suspended"):
        raise NotAuthenticated("auth2.refused")
    if not ok:
        lockout.record_failure(uow, account)
        raise NotAuthenticated("auth2.refused")
    if account.status == "suspended":  # the password is proven: its owner is told why
        raise NotAuthenticated("mem4.login_suspended", email=account.login_email)
    if account.status != wanted:
        if purpose == "reactivate":  # the password is proven: saying so reveals nothing
            raise RuleRefused("set4.not_deactivated", email=account.login_email)
        raise NotAuthenticated("auth2.refused")
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    factor = factors.choose(uow, account, method, typed)
    attempt = new_token()
    now = uow.clock.now()
    challenge = uow.add(
        LoginChallenge(
            attempt_hash=token_hash(attempt),
            account_id=account.id,
            method=factor.method,
            purpose=purpose,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    data = factor.start(uow, account, challenge, attempt)
    uow.add(challenge)
    uow.audit(
        account.login_email,
        "login.challenge",
        account.login_email,
        method=factor.method,
        **({"purpose": purpose} if purpose != "login" else {}),
    )
    return Pending(attempt, factor.method, account.login_email, challenge.expires_at, data)


def _challenge(uow: UnitOfWork, attempt: str) -> LoginChallenge:
    from sqlmodel import col, select

    from chorus_cli.store.models import LoginChallenge

    challenge = uow.session.exec(
        select(LoginChallenge)
        .where(col(LoginChallenge.attempt_hash) == token_hash(attempt))
        .with_for_update()
    ).first()
    if challenge is None:
        raise LinkExpired("auth1.no_challenge")
    if challenge.completed_at is not None:
        raise LinkExpired("auth1.code_used")
    if uow.clock.now() >= challenge.expires_at:
        raise LinkExpired("auth1.code_expired")
    if challenge.tries >= CODE_TRIES:
        raise LinkExpired("auth1.no_tries_left")
    return challenge


def check_second_factor(
    uow: UnitOfWork, attempt: str, response: str, purpose: str | None = None
) -> Opened:
    """Check the second factor and open a session (AUTH-1, AUTH-3); a reactivation's
    (SET-4) reactivates the account first. ``purpose``: the attempt must be of it."""
    from chorus_cli.domain import deactivation, factors
    from chorus_cli.store.models import Account, AuthSession

    challenge = _challenge(uow, attempt)
    if purpose is not None and challenge.purpose != purpose:
        raise LinkExpired("auth1.no_challenge")
    account = uow.session.get(Account, challenge.account_id)
    wanted = _expected_status(challenge.purpose)
    if lockout.is_locked(uow, account) or account.status != wanted:
        raise NotAuthenticated("auth2.refused")
    factor = factors.registry()[challenge.method]
    if not factor.verify(uow, account, challenge, attempt, response):
        challenge.tries += 1
        uow.add(challenge)
        left = CODE_TRIES - challenge.tries
        lockout.record_failure(uow, account)
        if factor.typed:  # a typed code may be typed again while tries are left
            raise WrongCode(factor.refusal, tries_left=left)
        raise NotAuthenticated(factor.refusal, left=left)
    if challenge.purpose == "reactivate":
        deactivation.reactivated(uow, account)
    now = uow.clock.now()
    challenge.completed_at = now
    account.failed_logins = 0
    account.last_login_at = now  # MEM-3
    uow.add(challenge)
    uow.add(account)
    token = new_token()
    session = uow.add(
        AuthSession(
            token_hash=token_hash(token),
            account_id=account.id,
            method=challenge.method,
            created_at=now,
            last_seen_at=now,
        )
    )
    uow.session_id = session.id
    uow.audit(account.login_email, "login.success", account.login_email, method=challenge.method)
    return Opened(token, account)


def _live_session(uow: UnitOfWork, token: str | None) -> Any:
    """The session row behind a token (``id``, ``account_id``, ``last_seen_at``…), read by
    plain SQL (no ORM class to define, ~8 ms of a store command's start-up, nor query to
    compile; typed as ``store.plain.auth_session`` gives the table's columns):
    NotAuthenticated when there is none, or it is revoked, idle 30 min, 10 h old
    (AUTH-3, AUTH-4)."""
    from sqlalchemy import text

    from chorus_cli.store import plain

    if not token:
        raise NotAuthenticated("auth3.no_session")
    read = plain.auth_session().c
    names = ", ".join(column.name for column in read)
    query = text(f"SELECT {names} FROM auth_session WHERE token_hash = :hash").columns(*read)
    session = uow.session.connection().execute(query, {"hash": token_hash(token)}).first()
    if session is None or session.revoked_at is not None:
        raise NotAuthenticated("auth3.no_session")
    now = uow.clock.now()
    if now - session.last_seen_at >= IDLE_TIMEOUT or now - session.created_at >= ABSOLUTE_TIMEOUT:
        raise NotAuthenticated("auth3.expired")
    return session


def _still_active(account: ShownAccount | None) -> None:
    # A lockout stops new log-ins only (AUTH-4): else five wrong passwords typed by
    # anyone who knows the address would end the owner's open sessions.
    if account is None or account.status != "active":
        raise NotAuthenticated("auth3.expired")


def signed_in(uow: UnitOfWork, token: str | None) -> tuple[AccountRecord, Any]:
    """The account behind a session token, as a record to show (``store.account_record``:
    no ORM class loaded, no photo read), and its session row, read only: NotAuthenticated
    when there is none, or it is revoked, idle 30 min, 10 h old (AUTH-3, AUTH-4). Shell
    completion (OUT-6) asks this, so that pressing Tab neither writes nor keeps a session
    alive; a command asks ``authenticate`` (or ``authenticate_to_show``)."""
    from chorus_cli.store import account_record

    session = _live_session(uow, token)
    account = account_record.read(uow, session.account_id)
    _still_active(account)
    assert account is not None  # _still_active refuses a missing account
    return account, session


def authenticate(uow: UnitOfWork, token: str | None) -> Account:
    """The account behind a session token; idle 30 min, absolute 10 h (AUTH-3, AUTH-4).
    The session's last use slides to now, in the command's transaction (committed with
    it, rolled back with it)."""
    from sqlalchemy.orm import defer

    from chorus_cli.store.models import Account

    session = _live_session(uow, token)
    # The photo (up to 1 MB, SET-1) is read only by the commands that show it.
    account = uow.session.get(Account, session.account_id, options=[defer(Account.photo)])
    _still_active(account)
    _used(uow, session, account)
    return account


def authenticate_to_show(uow: UnitOfWork, token: str | None) -> AccountRecord:
    """``authenticate`` for a command that only shows the account (``whoami``, ``account
    show``): the same checks and the same sliding session, the account read as a record
    (``signed_in``), which no use case that changes it accepts."""
    account, session = signed_in(uow, token)
    _used(uow, session, account)
    return account


def _used(uow: UnitOfWork, session: Any, account: ShownAccount) -> None:
    """The session's last use slides to now; the command speaks the account's language
    unless --lang or CHORUS_LANG said another."""
    from sqlalchemy import bindparam, text
    from sqlmodel.sql.sqltypes import UTCDateTime

    now = uow.clock.now()
    if session.last_seen_at != now:  # as the ORM did: no write when nothing changes
        slide = text("UPDATE auth_session SET last_seen_at = :now WHERE id = :id").bindparams(
            bindparam("now", type_=UTCDateTime())
        )
        uow.session.connection().execute(slide, {"now": now, "id": session.id})
    uow.session_id = session.id
    if uow.settings.lang is None:
        uow.lang = account.language


def logout(uow: UnitOfWork, token: str | None) -> str | None:
    """Revoke the session server-side; returns the account's e-mail if there was one."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Account, AuthSession

    if not token:
        return None
    session = uow.session.exec(
        select(AuthSession).where(col(AuthSession.token_hash) == token_hash(token))
    ).first()
    if session is None or session.revoked_at is not None:
        return None
    session.revoked_at = uow.clock.now()
    uow.add(session)
    email = uow.session.get(Account, session.account_id).login_email
    uow.audit(email, "logout", email)
    return email


WHOAMI_FIELDS = (*accounts.VIEW_FIELDS, "roles", "structures")  # ``whoami``'s, in order


def whoami(uow: UnitOfWork, account: ShownAccount) -> dict[str, Any]:
    """The account, its platform roles and its structures (AUTH-3, AUTH-5)."""
    return {
        **accounts.view(uow, account),
        "roles": roles.describe(uow, account),
        "structures": membership.memberships(uow, account),
    }
