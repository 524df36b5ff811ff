"""The account a use case only reads: the ``Account`` model, or the record
``store.account_record`` reads for a command that only shows it.

A type alias for hints alone (imported ``if TYPE_CHECKING:``), written as a string so
that importing it loads neither class. A type checker reads an attribute of a
``ShownAccount`` on both: what only one has (the model's ``photo`` bytes, the record's
``photo_size``) needs an ``isinstance`` first (``domain.photo.describe``). The record's
fields are the model's columns, typed alike (tests/test_startup.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from chorus_cli.store.account_record import AccountRecord
    from chorus_cli.store.models import Account

ShownAccount: TypeAlias = "Account | AccountRecord"
