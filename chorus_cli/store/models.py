"""SQLModel tables. The store keeps data; the rules live in ``chorus_cli.domain``.

Here the account's table, which every command that changes the logged-in account needs
(a session is read by plain SQL, ``domain.auth``; an account only shown as a record,
``store.account_record``; who sees what, for shell completion, on ``store.plain``); the
others in modules of their own, loaded on first use (``_LAZY``), each named
from here all the same: ``from chorus_cli.store.models import Mail``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, false
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


# The other tables live in their own modules and load on first use: each SQLModel table
# costs ~3.5 ms to define (pydantic's model, then SQLAlchemy's mapping), about 1 % of a
# store command's start-up, and `mail list` or `whoami` need few of them.
_LAZY = {
    **dict.fromkeys(("AuthSession", "LinkToken", "LoginChallenge"), "chorus_cli.store.models_auth"),
    **dict.fromkeys(("PasswordHistory", "ThrottleEvent"), "chorus_cli.store.models_guards"),
    "RoleGrant": "chorus_cli.store.models_roles",
    "Mail": "chorus_cli.store.models_mail",
    "AuditEntry": "chorus_cli.store.models_audit",
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
    **dict.fromkeys(("TechnicalAccount", "ApiClient"), "chorus_cli.store.models_api"),
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
