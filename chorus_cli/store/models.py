"""SQLModel tables. The store keeps data; the rules live in ``chorus_cli.domain``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
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
    language: str = Field(default="fr", max_length=2)
    accessibility: bool = False
    survey_consent: bool = False
    status: str = Field(default="pending", max_length=12)  # pending|active|deactivated
    password_hash: str | None = Field(default=None, max_length=200)
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime
    activated_at: datetime | None = None


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

    id: int | None = Field(default=None, primary_key=True)
    to: str = Field(max_length=254, index=True)
    sender: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body: str
    # The same body with links and codes blanked; replaces ``body`` once delivered.
    body_redacted: str
    kind: str = Field(max_length=40)
    created_at: datetime
    status: str = Field(default="pending", max_length=10)  # pending|sent|failed
    sent_at: datetime | None = None
    error: str | None = Field(default=None, max_length=500)


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


class Structure(SQLModel, table=True):
    """Structure: the legal entity an account acts for (guide 1.4.1), unique per id type."""

    __table_args__ = (UniqueConstraint("id_type", "identifier"),)
    id: int | None = Field(default=None, primary_key=True)
    id_type: str = Field(max_length=30)
    identifier: str = Field(max_length=40, index=True)
    raison_sociale: str = Field(max_length=200, index=True)
    label: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    # active | pending (public, awaiting support: STR-6) | refused
    status: str = Field(default="active", max_length=12)
    non_diffusible: bool = False
    address: str | None = Field(default=None, max_length=500)  # lines joined by "\n"
    postal_code: str | None = Field(default=None, max_length=10)
    commune: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=100)
    public: bool = False
    helios: bool = False
    primary_manager_id: int | None = Field(default=None, foreign_key="account.id")
    created_by_id: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime
    decided_at: datetime | None = None
    refusal_reason: str | None = Field(default=None, max_length=500)
    # Identifier, raison sociale and label as lower-case unaccented words between spaces
    # (" societe generale "), so a word-prefix search is one portable LIKE (STR-9);
    # kept by chorus_cli.domain.structures.search_key on every write.
    search_text: str = ""


class Service(SQLModel, table=True):
    """Service: a unit of a structure, its code unique within the structure (STR-7)."""

    __table_args__ = (UniqueConstraint("structure_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    structure_id: int = Field(foreign_key="structure.id", index=True, ondelete="CASCADE")
    code: str = Field(max_length=100)
    label: str = Field(max_length=200)
    active: bool = True
    created_at: datetime


class Attachment(SQLModel, table=True):
    """Rattachement: an account's link to a structure (ATT-4)."""

    __table_args__ = (UniqueConstraint("account_id", "structure_id"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    structure_id: int = Field(foreign_key="structure.id", index=True, ondelete="CASCADE")
    created_at: datetime


class Habilitation(SQLModel, table=True):
    """A profile: application + level, per structure, optionally per service (HAB-2)."""

    __table_args__ = (UniqueConstraint("account_id", "structure_id", "service_id", "application"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    structure_id: int = Field(foreign_key="structure.id", index=True, ondelete="CASCADE")
    service_id: int | None = Field(default=None, foreign_key="service.id", ondelete="CASCADE")
    application: str = Field(max_length=60)
    level: str = Field(max_length=15)  # consultation | modification
    granted_at: datetime


class Authenticator(SQLModel, table=True):
    """Facteur d'authentification: a TOTP app or a security key (MFA-2..4), allauth style.

    ``data`` holds, for TOTP, the secret (needed to check codes, so it cannot be hashed;
    never shown again after enrolment) and ``last_step``, the last accepted time step
    (replays refused, MFA-3); for a key, ``credential_id``, ``public_key`` (COSE, CBOR,
    base64url), ``sign_count`` and ``aaguid`` (MFA-4).
    """

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    type: str = Field(max_length=10)  # totp | key
    name: str = Field(max_length=100)
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    last_used_at: datetime | None = None


# One TOTP app per account (MFA-2); keys are many.
Index(
    "uq_authenticator_one_totp",
    Authenticator.__table__.c.account_id,
    unique=True,
    sqlite_where=Authenticator.__table__.c.type == "totp",
    postgresql_where=Authenticator.__table__.c.type == "totp",
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


class AttachmentRequest(SQLModel, table=True):
    """Demande de rattachement: an account asks to act for a structure, or for some of
    its services (ATT-1..3; «Historique de mes demandes», guide 1.7.5).

    ``type``: ``structure`` | ``services`` (maille service: the services are in
    ``attachment_request_service``) | ``subscription`` (a subscription to a structure's
    functions: the history shows it, no command creates one yet).
    ``status``: pending | approved | refused | lapsed.
    ``approver_id``: the structure's primary manager when the request was made (ATT-3);
    ``decided_by_id``: who approved or refused it.
    """

    __tablename__ = "attachment_request"
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    structure_id: int = Field(foreign_key="structure.id", index=True, ondelete="CASCADE")
    type: str = Field(max_length=20)
    status: str = Field(default="pending", max_length=10)
    comment: str = Field(max_length=1000)
    approver_id: int | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    decided_by_id: int | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    reason: str | None = Field(default=None, max_length=500)
    created_at: datetime
    decided_at: datetime | None = None


# One pending request per account and structure (ATT-1), even between two processes.
Index(
    "uq_attachment_request_one_pending",
    AttachmentRequest.__table__.c.account_id,
    AttachmentRequest.__table__.c.structure_id,
    unique=True,
    sqlite_where=AttachmentRequest.__table__.c.status == "pending",
    postgresql_where=AttachmentRequest.__table__.c.status == "pending",
)


class AttachmentRequestService(SQLModel, table=True):
    """A service named by an attachment request (maille service, ATT-1)."""

    __tablename__ = "attachment_request_service"
    request_id: int = Field(
        foreign_key="attachment_request.id", primary_key=True, ondelete="CASCADE"
    )
    service_id: int = Field(foreign_key="service.id", primary_key=True, ondelete="CASCADE")


class ServiceAttachment(SQLModel, table=True):
    """Rattachement à la maille service: an attached account that acts for these services
    of the structure only. An account with no such row acts for the whole structure."""

    __tablename__ = "service_attachment"
    __table_args__ = (UniqueConstraint("account_id", "service_id"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    structure_id: int = Field(foreign_key="structure.id", index=True, ondelete="CASCADE")
    service_id: int = Field(foreign_key="service.id", index=True, ondelete="CASCADE")
    created_at: datetime
