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
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
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


def read(uow: UnitOfWork, account_id: int) -> AccountRecord | None:
    """The account ``account_id`` as a record, in the unit of work's transaction; None
    when there is none. Typed as the table's columns are (booleans, UTC times). What the
    session has not written yet (an earlier line of `chorus batch`) is flushed first, as
    the ORM's own query would."""
    from sqlalchemy import Boolean, Integer, String, text
    from sqlmodel.sql.sqltypes import UTCDateTime

    when, number, string = UTCDateTime(), Integer(), String()
    query = text(
        "SELECT id, login_email, contact_email, first_name, last_name, phone,"
        " workplace_address, biography, photo_type, photo_width, photo_height,"
        " length(photo) AS photo_size, language, accessibility, status, to_complete,"
        " locked_until, created_at, activated_at, last_login_at"
        " FROM account WHERE id = :id"
    ).columns(
        id=number, login_email=string, contact_email=string, first_name=string,
        last_name=string, phone=string, workplace_address=string, biography=string,
        photo_type=string, photo_width=number, photo_height=number, photo_size=number,
        language=string, accessibility=Boolean(), status=string, to_complete=Boolean(),
        locked_until=when, created_at=when, activated_at=when, last_login_at=when,
    )  # fmt: skip
    uow.session.flush()
    row = uow.session.connection().execute(query, {"id": account_id}).first()
    return None if row is None else AccountRecord._make(row)
