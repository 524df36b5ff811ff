"""Leaving with a successor (MEM-7): `account deactivate --successor EMAIL` hands every
primary-manager role of the account to one successor (STR-8, through
``structures.transfer_primary``, its rules and notices unchanged) and deactivates the
account (SET-4, through ``deactivation.deactivate``), in one transaction: both happen
or neither. ``check`` rehearses the whole step in a savepoint that it rolls back, so
what would refuse it is said before the person is asked to confirm, with no
transaction left open while they answer (SEC-4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus_cli.domain import deactivation, structures
from chorus_cli.kernel.errors import RuleRefused

if TYPE_CHECKING:
    from chorus_cli.store.models import Account
    from chorus_cli.store.uow import UnitOfWork


def primary_of(uow: UnitOfWork, account: Account) -> list[tuple[str, str]]:
    """(identifier, id_type) of each structure the account is the primary manager of."""
    from sqlmodel import col, select

    from chorus_cli.store.models import Structure

    rows = uow.session.exec(
        select(Structure.identifier, Structure.id_type)
        .where(col(Structure.primary_manager_id) == account.id)
        .order_by(col(Structure.identifier))
    ).all()
    return [(identifier, id_type) for identifier, id_type in rows]


def deactivate(uow: UnitOfWork, account: Account, successor: str) -> list[str]:
    """Transfer each primary-manager role to ``successor``, then deactivate (MEM-7);
    returns the structures handed over. Refused (exit 1) when the account is the
    primary manager of none: plain `account deactivate` is for that."""
    held = primary_of(uow, account)
    if not held:
        raise RuleRefused("mem7.not_primary", email=account.login_email)
    for identifier, id_type in held:
        structures.transfer_primary(uow, account, identifier, successor, id_type)
    deactivation.deactivate(uow, account)
    return [identifier for identifier, _ in held]


def check(uow: UnitOfWork, account: Account, successor: str) -> list[str]:
    """Whether ``deactivate`` would go through now: the same step in a savepoint, rolled
    back (its mails and audit rows too); returns the structures it would hand over."""
    queued = uow.queued_mail
    savepoint = uow.session.begin_nested()
    try:
        return deactivate(uow, account, successor)
    finally:
        savepoint.rollback()
        uow.queued_mail = queued
        uow.session.refresh(account)
