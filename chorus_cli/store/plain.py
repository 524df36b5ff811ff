"""Tables as a listing reads them with plain SQL: a Core ``table()`` of the columns it
shows, typed as the model's, and no SQLModel class defined.

Defining a model costs a command that only reads more than its query: ``Account`` about
3 % of a store command's start-up, ``Mail`` 1.5 % (pydantic's model, SQLAlchemy's
table and mapper); `mail list` needs neither. Each table here names columns of its
model (``store.models``), and tests/test_startup.py checks they are the model's, typed
alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import TableClause


def mail() -> TableClause:
    """The outbox (``models_mail.Mail``): the columns `mail list` shows."""
    from sqlalchemy import Integer, String, column, table
    from sqlmodel.sql.sqltypes import UTCDateTime

    return table(
        "mail",
        column("id", Integer),
        column("to", String),
        column("sender", String),
        column("subject", String),
        column("body", String),
        column("created_at", UTCDateTime()),
        column("status", String),
        column("attempts", Integer),
        column("error", String),
        column("message_id", String),
        column("next_attempt_at", UTCDateTime()),
    )
