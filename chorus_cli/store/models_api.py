"""Tables of the integrators' API: technical accounts (TECH-1..2) and API clients
(API-2). Secrets are kept only as hashes (SEC, ACC-8)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

import chorus_cli.store.models_org  # noqa: F401  (structure comes first)


class TechnicalAccount(SQLModel, table=True):
    """«Compte technique» of a structure (TECH-1): ``TECH_<number>_<identifier>@cpro.fr``,
    a password hashed with Argon2 that expires 424 days after it was set (TECH-2)."""

    __tablename__ = "technical_account"
    __table_args__ = (UniqueConstraint("structure_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=254, unique=True)
    # The login lower-cased: what a typed login is looked up by (case-insensitive).
    login_key: str = Field(max_length=254, unique=True)
    number: int
    structure_id: int = Field(foreign_key="structure.id", index=True, ondelete="CASCADE")
    password_hash: str = Field(max_length=200)
    password_set_at: datetime
    expires_at: datetime
    created_at: datetime
    created_by: str = Field(max_length=254)
    last_used_at: datetime | None = None


class ApiClient(SQLModel, table=True):
    """A client registered for ``POST /api/oauth/token`` (API-2): its public id and the
    SHA-256 of its 256-bit random secret. Its tokens are signed, not stored (API-3)."""

    __tablename__ = "api_client"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    client_id: str = Field(max_length=64, unique=True)
    secret_hash: str = Field(max_length=64)
    created_at: datetime
    created_by: str = Field(max_length=254)
