"""technical accounts and API clients (TECH-1..2, API-2)

Revision ID: 0013
Revises: 0012

``technical_account``: a structure's «comptes techniques», their Argon2 password hash
and its expiry; ``api_client``: the clients registered for ``POST /api/oauth/token``,
their secret as a SHA-256 (their bearer tokens are signed, not stored: API-3).
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

String = sqlmodel.sql.sqltypes.AutoString
Moment = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "technical_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", String(length=254), nullable=False),
        sa.Column("login_key", String(length=254), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", String(length=200), nullable=False),
        sa.Column("password_set_at", Moment(), nullable=False),
        sa.Column("expires_at", Moment(), nullable=False),
        sa.Column("created_at", Moment(), nullable=False),
        sa.Column("created_by", String(length=254), nullable=False),
        sa.Column("last_used_at", Moment(), nullable=True),
        sa.ForeignKeyConstraint(["structure_id"], ["structure.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("login"),
        sa.UniqueConstraint("login_key"),
        sa.UniqueConstraint("structure_id", "number"),
    )
    with op.batch_alter_table("technical_account", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_technical_account_structure_id"), ["structure_id"], unique=False
        )
    op.create_table(
        "api_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", String(length=100), nullable=False),
        sa.Column("client_id", String(length=64), nullable=False),
        sa.Column("secret_hash", String(length=64), nullable=False),
        sa.Column("created_at", Moment(), nullable=False),
        sa.Column("created_by", String(length=254), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("client_id"),
    )


def downgrade() -> None:
    op.drop_table("api_client")
    op.drop_table("technical_account")
