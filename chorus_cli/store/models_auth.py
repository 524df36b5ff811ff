"""Tables of CLI sessions, of mailed single-use links and of log-ins awaiting their second
factor: loaded only by the commands that need them (a session is checked by plain SQL)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

import chorus_cli.store.models  # noqa: F401  (the tables these reference come first)


class AuthSession(SQLModel, table=True):
    """A CLI session; the token itself is only in the user's keyring."""

    __tablename__ = "auth_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    method: str = Field(max_length=10)
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None = None


class LinkToken(SQLModel, table=True):
    """A mailed single-use link (activation, reset, ...), stored as a SHA-256 hash."""

    __tablename__ = "link_token"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    purpose: str = Field(max_length=20)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    payload: str | None = Field(default=None, max_length=254)


class LoginChallenge(SQLModel, table=True):
    """A login attempt that passed the password and awaits its second factor."""

    __tablename__ = "login_challenge"
    id: int | None = Field(default=None, primary_key=True)
    attempt_hash: str = Field(max_length=64, unique=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    method: str = Field(max_length=10)
    # login | reactivate (SET-4): what a proven second factor opens.
    purpose: str = Field(
        default="login", max_length=12, sa_column_kwargs={"server_default": "login"}
    )
    code_hash: str | None = Field(default=None, max_length=64)
    tries: int = 0
    created_at: datetime
    expires_at: datetime
    completed_at: datetime | None = None
