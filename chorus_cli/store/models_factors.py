"""Tables of second factors: TOTP apps, security keys, ceremonies (MFA-2..4)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

import chorus_cli.store.models  # noqa: F401  (the tables these reference come first)
import chorus_cli.store.models_auth  # noqa: F401


class Authenticator(SQLModel, table=True):
    """Facteur d'authentification: a TOTP app or a security key (MFA-2..4), allauth style.

    ``data`` holds, for TOTP, the secret sealed (``sealed``: needed to check codes, so it
    cannot be hashed; encrypted under a key kept outside the store, SEC-2; never shown
    again after enrolment; ``secret`` in rows from before sealing) and ``last_step``, the
    last accepted time step (replays refused, MFA-3); for a key, ``credential_id``,
    ``public_key`` (COSE, CBOR, base64url), ``sign_count`` and ``aaguid`` (MFA-4).
    """

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    type: str = Field(max_length=10)  # totp | key
    name: str = Field(max_length=100)
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    last_used_at: datetime | None = None


def partial_indexes() -> None:
    """One TOTP app per account (MFA-2); keys are many: a partial unique index, made by
    migration 0004, put on the metadata by ``models.load_all`` (see there)."""
    table = Authenticator.__table__
    if "uq_authenticator_one_totp" in {index.name for index in table.indexes}:
        return
    Index(
        "uq_authenticator_one_totp",
        table.c.account_id,
        unique=True,
        sqlite_where=table.c.type == "totp",
        postgresql_where=table.c.type == "totp",
    )


class FactorState(SQLModel, table=True):
    """A factor ceremony under way: a TOTP enrolment awaiting its first code (10 min), a
    WebAuthn registration or log-in challenge. Deleted once used; dead after expiry."""

    __tablename__ = "factor_state"
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    purpose: str = Field(max_length=20)  # totp_enrol | key_register | key_login
    challenge_id: int | None = Field(
        default=None, foreign_key="login_challenge.id", index=True, ondelete="CASCADE"
    )
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    expires_at: datetime
