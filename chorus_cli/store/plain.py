"""Tables as a listing or a right reads them with plain SQL: a Core ``table()`` of the
columns it names, typed as the model's, and no SQLModel class defined.

Defining a model costs a command that only reads more than its query: ``Account`` about
3 % of a store command's start-up, ``Mail`` 1.5 % (pydantic's model, SQLAlchemy's
table and mapper); `mail list` needs neither, nor does shell completion (OUT-6) to ask
``authz`` who sees which account or structure. Each table here names columns of its
model (``store.models``), and tests/test_startup.py checks they are the model's, typed
alike.

Each call makes a table of its own: a condition written on one (an ``EXISTS``) never
correlates with another query's table of the same name by accident; a condition that
must (on the enclosing query's account or structure) is given that table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import TableClause


def _table(name: str, **columns: type) -> TableClause:
    from sqlalchemy import column, table

    return table(name, *(column(key, kind()) for key, kind in columns.items()))


def account() -> TableClause:
    """``models.Account``: what a right names of an account (MEM-3, SEC-11)."""
    from sqlalchemy import Integer, String

    return _table("account", id=Integer, login_email=String)


def attachment() -> TableClause:
    """``models.Attachment``: who is attached where (ATT-4)."""
    from sqlalchemy import Integer

    return _table("attachment", account_id=Integer, structure_id=Integer)


def structure() -> TableClause:
    """``models.Structure``: what a right names of a structure (STR-9, SEC-11)."""
    from sqlalchemy import Boolean, Integer, String

    return _table(
        "structure", id=Integer, identifier=String, status=String, public=Boolean,
        postal_code=String,
    )  # fmt: skip


def role_grant() -> TableClause:
    """``models.RoleGrant``: who holds a platform role (PUB-1)."""
    from sqlalchemy import Integer

    return _table("role_grant", account_id=Integer)


def habilitation() -> TableClause:
    """``models.Habilitation``: a profile held on a structure or a service (HAB-2)."""
    from sqlalchemy import Integer, String

    return _table(
        "habilitation", account_id=Integer, structure_id=Integer, service_id=Integer,
        application=String, level=String,
    )  # fmt: skip


def auth_session() -> TableClause:
    """``models_auth.AuthSession``: what checking a session reads (AUTH-3, AUTH-4)."""
    from sqlalchemy import Integer
    from sqlmodel.sql.sqltypes import UTCDateTime

    return _table(
        "auth_session", id=Integer, account_id=Integer, created_at=UTCDateTime,
        last_seen_at=UTCDateTime, revoked_at=UTCDateTime,
    )  # fmt: skip


def mail() -> TableClause:
    """The outbox (``models_mail.Mail``): the columns `mail list` shows."""
    from sqlalchemy import Integer, String
    from sqlmodel.sql.sqltypes import UTCDateTime

    return _table(
        "mail", id=Integer, to=String, sender=String, subject=String, body=String,
        created_at=UTCDateTime, status=String, attempts=Integer, error=String,
        message_id=String, next_attempt_at=UTCDateTime,
    )  # fmt: skip
