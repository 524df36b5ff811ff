"""The outbox table (SEC-8): loaded only by the commands that write or read mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class Mail(SQLModel, table=True):
    """Outbox: every mail is written here, then delivered by SMTP when configured."""

    # SEC-8: what delivery looks for after a command (the mails due now).
    __table_args__ = (Index("ix_mail_status_next_attempt_at", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    to: str = Field(max_length=254, index=True)
    sender: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body: str
    # The same body with links and codes blanked; replaces ``body`` once delivered.
    body_redacted: str
    kind: str = Field(max_length=40)
    created_at: datetime
    # pending (to send, at next_attempt_at) | sending (claimed by a delivery) | sent |
    # failed (refused for good: 5xx, or a mail that cannot be written) | discarded
    status: str = Field(default="pending", max_length=10)
    sent_at: datetime | None = None
    error: str | None = Field(default=None, max_length=500)  # the last failure's reason
    # SEC-8: one Message-ID from the mail's creation, so a resend is recognisable.
    message_id: str | None = Field(default=None, max_length=300)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    next_attempt_at: datetime | None = None  # None: due at once
    claimed_at: datetime | None = None  # when a delivery took it (status sending)
