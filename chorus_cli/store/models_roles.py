"""The platform roles' table (admin, support, correspondent): loaded only by the commands
that grant or revoke a role or join it in a query (rights read it by plain SQL,
``domain.authz.role_grants``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

import chorus_cli.store.models  # noqa: F401  (the tables these reference come first)


class RoleGrant(SQLModel, table=True):
    """Platform role: admin, support or correspondent (scoped to a department)."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("account_id", "role", "department"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=20)
    department: str | None = Field(default=None, max_length=3)
    granted_at: datetime
