"""attachments: attachment requests, their services, service-level attachments (ATT-1..5)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ONE_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "attachment_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["approver_id"], ["account.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["account.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["structure_id"], ["structure.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("attachment_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attachment_request_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_attachment_request_structure_id"), ["structure_id"], unique=False
        )
        # One pending request per account and structure (ATT-1).
        batch_op.create_index(
            "uq_attachment_request_one_pending",
            ["account_id", "structure_id"],
            unique=True,
            sqlite_where=ONE_PENDING,
            postgresql_where=ONE_PENDING,
        )

    op.create_table(
        "attachment_request_service",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["attachment_request.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("request_id", "service_id"),
    )

    op.create_table(
        "service_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["structure_id"], ["structure.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "service_id"),
    )
    with op.batch_alter_table("service_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_attachment_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_attachment_service_id"), ["service_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_attachment_structure_id"), ["structure_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("service_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_attachment_structure_id"))
        batch_op.drop_index(batch_op.f("ix_service_attachment_service_id"))
        batch_op.drop_index(batch_op.f("ix_service_attachment_account_id"))
    op.drop_table("service_attachment")
    op.drop_table("attachment_request_service")
    with op.batch_alter_table("attachment_request", schema=None) as batch_op:
        batch_op.drop_index("uq_attachment_request_one_pending")
        batch_op.drop_index(batch_op.f("ix_attachment_request_structure_id"))
        batch_op.drop_index(batch_op.f("ix_attachment_request_account_id"))
    op.drop_table("attachment_request")
