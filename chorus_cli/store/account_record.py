"""An account read to be shown, not changed: `whoami`, `account show` and shell completion
(OUT-6) read the logged-in account so, by plain SQL.

Loading the ``Account`` class costs such a command more than everything else it does
(the model's definition, then SQLAlchemy configuring its mapper, ~25 ms of a ~300 ms
start-up); the columns these commands show are one query away. The photo's bytes
(up to 1 MB, SET-1) stay in the store: its size is read instead. No secret column
(the password hash) is read.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from sqlalchemy import TextClause
    from sqlalchemy.types import TypeEngine

    from chorus_cli.store.uow import UnitOfWork


class AccountRecord(NamedTuple):
    """The columns of ``account`` a command shows, read once; ``photo_size`` in place of
    the photo. Attribute for attribute as ``store.models.Account`` names them. (A named
    tuple: a frozen dataclass of twenty fields costs a millisecond more to define.)"""

    id: int
    login_email: str
    contact_email: str
    first_name: str
    last_name: str
    phone: str | None
    workplace_address: str | None
    biography: str | None
    photo_type: str | None
    photo_width: int | None
    photo_height: int | None
    photo_size: int | None  # the photo's length in bytes, None without one
    language: str
    accessibility: bool
    status: str
    to_complete: bool
    locked_until: datetime | None
    created_at: datetime
    activated_at: datetime | None
    last_login_at: datetime | None


# Read in place of the column of that name.
_IN_PLACE = {"photo_size": "length(photo) AS photo_size"}


def annotations() -> dict[str, str]:
    """Each field's annotation as written (``"str | None"``)."""
    return {
        name: getattr(kind, "__forward_arg__", kind)  # a named tuple wraps each in a ForwardRef
        for name, kind in AccountRecord.__annotations__.items()
    }


def sql_type(annotation: str) -> TypeEngine:
    """The SQL type a field of this annotation is read with (SQLite gives booleans as
    0/1, times as text); an annotation of another type fails at once."""
    from sqlalchemy import Boolean, Integer, String
    from sqlmodel.sql.sqltypes import UTCDateTime

    kinds = {"int": Integer, "str": String, "bool": Boolean, "datetime": UTCDateTime}
    return kinds[annotation.split(" |")[0]]()


@cache
def _query() -> TextClause:
    """``SELECT`` of the record's fields, in its order, each typed by its annotation:
    the record is the one list of what is read."""
    from sqlalchemy import text

    selected = ", ".join(_IN_PLACE.get(name, name) for name in AccountRecord._fields)
    types = {name: sql_type(kind) for name, kind in annotations().items()}
    return text(f"SELECT {selected} FROM account WHERE id = :id").columns(**types)


def read(uow: UnitOfWork, account_id: int) -> AccountRecord | None:
    """The account ``account_id`` as a record, in the unit of work's transaction; None
    when there is none. Typed as the table's columns are (booleans, UTC times). What the
    session has not written yet (an earlier line of `chorus batch`) is flushed first, as
    the ORM's own query would."""
    uow.session.flush()
    row = uow.session.connection().execute(_query(), {"id": account_id}).first()
    return None if row is None else AccountRecord._make(row)
