"""SQLModel tables. The store keeps data; the rules live in ``chorus_cli.domain``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint, false
from sqlmodel import Field, SQLModel


class Account(SQLModel, table=True):
    """Compte utilisateur: a person who logs in to the portal."""

    id: int | None = Field(default=None, primary_key=True)
    # Kept lower-cased: the login is unique case-insensitively (ACC-1).
    login_email: str = Field(max_length=254, unique=True, index=True)
    contact_email: str = Field(max_length=254)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    phone: str | None = Field(default=None, max_length=20)
    workplace_address: str | None = Field(default=None, max_length=500)
    biography: str | None = Field(default=None, max_length=2000)
    photo: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    photo_type: str | None = Field(default=None, max_length=40)
    photo_width: int | None = None  # SET-1: read from the image's bytes
    photo_height: int | None = None
    language: str = Field(default="fr", max_length=2)
    accessibility: bool = False
    survey_consent: bool = False
    # pending|active|deactivated|suspended (MEM-4; «locked» is derived from locked_until)
    status: str = Field(default="pending", max_length=12)
    # MEM-4: the status a suspended account had, given back by `account restore`.
    suspended_from: str | None = Field(default=None, max_length=12)
    # PUB-2: initialised from MADRHAS data (a flow or a correspondent); the owner is asked
    # to complete «Mon compte» until an `account update`.
    to_complete: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # SET-2: subscribed to the weekly summary; end of the last period mailed.
    weekly_summary: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    weekly_until: datetime | None = None
    password_hash: str | None = Field(default=None, max_length=200)
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime
    activated_at: datetime | None = None
    last_login_at: datetime | None = None  # MEM-3: set when a session opens


class PasswordHistory(SQLModel, table=True):
    """Former password hashes, so the last five are not reused (ACC-5)."""

    __tablename__ = "password_history"
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    password_hash: str = Field(max_length=200)
    created_at: datetime


class RoleGrant(SQLModel, table=True):
    """Platform role: admin, support or correspondent (scoped to a department)."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("account_id", "role", "department"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=20)
    department: str | None = Field(default=None, max_length=3)
    granted_at: datetime


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


class ThrottleEvent(SQLModel, table=True):
    """A rate-limited request (ACC-7), recorded whether or not the address exists."""

    __tablename__ = "throttle_event"
    __table_args__ = (Index("ix_throttle_event_key_at", "key", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300)
    at: datetime


# Tables of later areas live in their own modules and load on first use: each SQLModel
# table costs ~3.5 ms to define, and `mail list` or `whoami` need few of them.
_LAZY = {
    **dict.fromkeys(
        (
            "Structure",
            "Service",
            "Attachment",
            "Habilitation",
            "AttachmentRequest",
            "AttachmentRequestService",
            "ServiceAttachment",
        ),
        "chorus_cli.store.models_org",
    ),
    **dict.fromkeys(("Authenticator", "FactorState"), "chorus_cli.store.models_factors"),
    "NotificationChoice": "chorus_cli.store.models_prefs",
    "StoreSetting": "chorus_cli.store.models_settings",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)


def load_all() -> None:
    """Define every table and index (migrations and schema checks need the whole metadata).

    The partial unique indexes (``sqlite_where``, ``postgresql_where``) are put on the
    metadata here, not where their tables are defined: SQLAlchemy checks a dialect's
    arguments by importing that dialect, and its PostgreSQL one costs a command ~25 ms
    (more than the table) on a SQLite store; only DDL reads an index, and the migrations
    make these with their own statements."""
    import importlib

    for module in sorted(set(_LAZY.values())):
        partial_indexes = getattr(importlib.import_module(module), "partial_indexes", None)
        if partial_indexes is not None:
            partial_indexes()
