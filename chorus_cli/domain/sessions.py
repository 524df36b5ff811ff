"""Ending an account's open sessions (AUTH-3): a password reset or change, a new login
address and a deactivation all do it.

A leaf: ``auth`` opens and checks sessions, and the modules that end them import this
rather than ``auth``, which imports them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chorus_cli.store.models import Account
    from chorus_cli.store.uow import UnitOfWork


def end_sessions(uow: UnitOfWork, account: Account, keep: int | None = None) -> None:
    """Revoke every open session of the account but ``keep``."""
    from sqlmodel import col, update

    from chorus_cli.store.models import AuthSession

    query = (
        update(AuthSession)
        .where(col(AuthSession.account_id) == account.id)
        .where(col(AuthSession.revoked_at).is_(None))
    )
    if keep is not None:
        query = query.where(col(AuthSession.id) != keep)
    uow.session.exec(query.values(revoked_at=uow.clock.now()))
