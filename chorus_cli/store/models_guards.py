"""Tables of password history and rate limits (ACC-5, ACC-7): loaded only by the
commands that set a password or count requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

import chorus_cli.store.models  # noqa: F401  (the tables these reference come first)


class PasswordHistory(SQLModel, table=True):
    """Former password hashes, so the last five are not reused (ACC-5)."""

    __tablename__ = "password_history"
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    password_hash: str = Field(max_length=200)
    created_at: datetime


class ThrottleEvent(SQLModel, table=True):
    """A rate-limited request (ACC-7), recorded whether or not the address exists."""

    __tablename__ = "throttle_event"
    __table_args__ = (Index("ix_throttle_event_key_at", "key", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300)
    at: datetime
