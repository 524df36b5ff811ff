"""Notification choices of «Mon compte» (SET-2): loaded only by the commands that need them."""

from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

import chorus_cli.store.models  # noqa: F401  (the tables these reference come first)


class NotificationChoice(SQLModel, table=True):
    """An application the account chose to be notified by (SET-2); no row: off."""

    __tablename__ = "notification_choice"
    __table_args__ = (UniqueConstraint("account_id", "application"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    application: str = Field(max_length=40)
