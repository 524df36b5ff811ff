"""The lockout after failed proofs (AUTH-2): five in a row lock an account for 15
minutes, whether the password was wrong at log-in, at a password change (MFA-1) or
before a sensitive change (reauthentication), or a second factor failed at log-in.

A leaf: ``auth``, ``accounts`` and the factors all count failures here, so it imports
none of them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chorus_cli.store.models import Account
    from chorus_cli.store.shown import ShownAccount
    from chorus_cli.store.uow import UnitOfWork

MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)


def is_locked(uow: UnitOfWork, account: ShownAccount) -> bool:
    """Whether the account's lockout time is still running."""
    return account.locked_until is not None and account.locked_until > uow.clock.now()


def record_failure(uow: UnitOfWork, account: Account) -> None:
    """Count a failure; the fifth in a row locks for 15 minutes (AUTH-2).

    Failures while locked are not counted, so they do not extend the lock.
    The count is committed at once: the refusal that follows must not roll it back.
    The row is read again under a lock first: on PostgreSQL, failures guessed in
    parallel would otherwise each add one to the same stale count (a lost update).
    """
    uow.session.refresh(account, with_for_update=True)
    if not is_locked(uow, account):
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILURES:
            account.failed_logins = 0
            account.locked_until = uow.clock.now() + LOCK_TIME
            minutes = int(LOCK_TIME.total_seconds() // 60)
            uow.audit("system", "account.lock", account.login_email, minutes=minutes)
        uow.add(account)
        uow.audit(account.login_email, "login.failure", account.login_email)
    uow.commit()
