"""Tables of structures: services, attachments, requests, habilitations (STR, ATT, HAB)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

import chorus_cli.store.models  # noqa: F401  (the tables these reference come first)


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
    # What ``consulterStructure`` answers: invoices must name a service code, an
    # engagement number (codeServiceDoitEtreRenseigne, numeroEJDoitEtreRenseigne).
    service_code_required: bool = False
    engagement_number_required: bool = False
    primary_manager_id: int | None = Field(default=None, foreign_key="account.id")
    created_by_id: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime
    decided_at: datetime | None = None
    refusal_reason: str | None = Field(default=None, max_length=500)
    # Identifier, raison sociale and label as lower-case unaccented words between spaces
    # (" societe generale "), each word at most WORD_MAX characters, so a word-prefix
    # search is a portable substring test of " term" (STR-9, structures.words_rule);
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


class AttachmentRequest(SQLModel, table=True):
    """Demande de rattachement: an account asks to act for a structure, or for some of
    its services (ATT-1..3; «Historique de mes demandes», guide 1.7.5).

    ``type``: ``structure`` | ``services`` (maille service: the services are in
    ``attachment_request_service``) | ``subscription`` (an «abonnement»: the profile
    ``application``/``level`` on the structure, or on the services named, MEM-5).
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
    application: str | None = Field(default=None, max_length=40)  # a subscription's (MEM-5)
    level: str | None = Field(default=None, max_length=20)


def partial_indexes() -> None:
    """One pending attachment request per account and structure (ATT-1), and one pending
    subscription per account, structure and application (MEM-5), even between processes:
    partial unique indexes, made by migrations 0005 and 0011, put on the metadata by
    ``models.load_all`` (see there)."""
    table = AttachmentRequest.__table__
    if "uq_attachment_request_one_pending" in {index.name for index in table.indexes}:
        return
    requests = table.c
    Index(
        "uq_attachment_request_one_pending",
        requests.account_id,
        requests.structure_id,
        unique=True,
        sqlite_where=(requests.status == "pending") & (requests.type != "subscription"),
        postgresql_where=(requests.status == "pending") & (requests.type != "subscription"),
    )
    Index(
        "uq_subscription_request_one_pending",
        requests.account_id,
        requests.structure_id,
        requests.application,
        unique=True,
        sqlite_where=(requests.status == "pending") & (requests.type == "subscription"),
        postgresql_where=(requests.status == "pending") & (requests.type == "subscription"),
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
