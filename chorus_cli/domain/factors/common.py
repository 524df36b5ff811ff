"""What the TOTP app and the security keys share: their rows, device names, the password
asked before a removal, the notices and the audit log (MFA-2..5).

Nothing here ever returns a secret: ``public`` is the only shape that leaves the domain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chorus_cli.domain import lockout, notices, passwords
from chorus_cli.domain.secrets import verify_password
from chorus_cli.kernel.clock import iso
from chorus_cli.kernel.errors import BadInput, NotAuthenticated

if TYPE_CHECKING:
    from chorus_cli.store.models import Account, Authenticator
    from chorus_cli.store.shown import ShownAccount
    from chorus_cli.store.uow import UnitOfWork

NAME_MAX = 100


def authenticators(
    uow: UnitOfWork, account: Account, type: str | None = None, lock: bool = False
) -> list[Authenticator]:
    """The account's factors (of one type), oldest first; ``lock`` holds the rows until
    commit, so two processes checking the same factor take turns (replays, counters)."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Authenticator

    query = select(Authenticator).where(col(Authenticator.account_id) == account.id)
    if type is not None:
        query = query.where(col(Authenticator.type) == type)
    query = query.order_by(col(Authenticator.id))
    if lock:
        # Read the row as committed now, not as an earlier query of this session left it.
        query = query.with_for_update().execution_options(populate_existing=True)
    return list(uow.session.exec(query).all())


def clean_name(name: str | None, default: str) -> str:
    """A device name: spaces tidied, 1 to 100 characters; ``default`` when none is given."""
    from chorus_cli.kernel import text

    if name is None:
        return default
    name = " ".join(text.check(name, "name", multiline=True).split())
    if not name or len(name) > NAME_MAX:
        raise BadInput("mfa2.name_invalid", max=NAME_MAX)
    return name


def reauthenticate(
    uow: UnitOfWork, account: Account, password: str, refusal: str = "mfa5.password_wrong"
) -> None:
    """The current password again before a sensitive change (ASVS 5 7.5.1: a factor
    added or removed, the login address, SEC-5); a wrong one counts toward the lockout
    like any failed login (AUTH-2) and is refused with ``refusal``."""
    if not verify_password(account.password_hash, passwords.typed(password)):
        lockout.record_failure(uow, account)
        raise NotAuthenticated(refusal)


# The fields of ``view``, in its order: what `mfa list`, `mfa key list`, `mfa key add` and
# `mfa totp confirm` declare (OUT-3), an empty CSV's header.
FACTOR_FIELDS = ("id", "type", "name", "created_at", "last_used_at")


def view(row: Any) -> dict[str, Any]:
    """A factor as `mfa list` shows it: never its secret, key material or counter."""
    return {
        "id": row.id,
        "type": row.type,
        "name": row.name,
        "created_at": iso(row.created_at),
        "last_used_at": iso(row.last_used_at),
    }


def listing(uow: UnitOfWork, account: ShownAccount) -> list[dict[str, Any]]:
    """Every TOTP app and key of the account (MFA-5), in the order login tries them.

    A plain SQL read of the columns shown, as ``membership.memberships``: ``account show``
    asks it every time, and defining the factor tables' classes would cost it more than
    the query itself. What the session has not written yet is flushed first."""
    from sqlalchemy import DateTime, Integer, String, text

    uow.session.flush()
    query = text(
        "SELECT id, type, name, created_at, last_used_at FROM authenticator"
        " WHERE account_id = :account ORDER BY id"
    ).columns(
        id=Integer(), type=String(), name=String(), created_at=DateTime(),
        last_used_at=DateTime(),
    )  # fmt: skip
    rows = uow.session.connection().execute(query, {"account": account.id}).all()
    order = {"key": 0, "totp": 1}
    return [view(r) for r in sorted(rows, key=lambda r: (order.get(r.type, 9), r.id))]


def added(uow: UnitOfWork, account: Account, row: Authenticator) -> None:
    """Mail the notice to the contact address and audit the new factor (MFA-5, SET-3)."""
    notices.notify(uow, account, f"{row.type}_added", name=row.name)
    uow.audit(
        account.login_email, f"mfa.{row.type}.add", account.login_email, id=row.id, name=row.name
    )


def removed(uow: UnitOfWork, account: Account, row: Authenticator) -> None:
    """Delete the factor, mail the notice, audit it (MFA-5, SET-3)."""
    uow.session.delete(row)
    uow.session.flush()
    notices.notify(uow, account, f"{row.type}_removed", name=row.name)
    uow.audit(
        account.login_email,
        f"mfa.{row.type}.remove",
        account.login_email,
        id=row.id,
        name=row.name,
    )


def purge_states(uow: UnitOfWork) -> None:
    """Forget the ceremonies that expired: a pending TOTP secret does not linger."""
    from sqlmodel import col, delete

    from chorus_cli.store.models import FactorState

    uow.session.exec(delete(FactorState).where(col(FactorState.expires_at) <= uow.clock.now()))
