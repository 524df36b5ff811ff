"""The audit log's table (OPS-4): loaded only by the commands that change or read it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel


class AuditEntry(SQLModel, table=True):
    """One change: who (an e-mail or ``system``), what, on what, when (OPS-4)."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_at", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    actor: str = Field(max_length=254, index=True)
    action: str = Field(max_length=60, index=True)
    target: str = Field(max_length=254, index=True)
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
