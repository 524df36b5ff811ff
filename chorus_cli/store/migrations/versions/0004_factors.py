"""factors: TOTP apps and security keys, and the ceremonies under way (MFA-2..4)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ONE_TOTP = sa.text("type = 'totp'")


def upgrade() -> None:
    op.create_table(
        "authenticator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("authenticator", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_authenticator_account_id"), ["account_id"], unique=False
        )
        # One TOTP app per account (MFA-2); an account may have many keys.
        batch_op.create_index(
            "uq_authenticator_one_totp",
            ["account_id"],
            unique=True,
            sqlite_where=ONE_TOTP,
            postgresql_where=ONE_TOTP,
        )

    op.create_table(
        "factor_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["challenge_id"], ["login_challenge.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("factor_state", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_factor_state_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_factor_state_challenge_id"), ["challenge_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("factor_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_factor_state_challenge_id"))
        batch_op.drop_index(batch_op.f("ix_factor_state_account_id"))
    op.drop_table("factor_state")
    with op.batch_alter_table("authenticator", schema=None) as batch_op:
        batch_op.drop_index("uq_authenticator_one_totp")
        batch_op.drop_index(batch_op.f("ix_authenticator_account_id"))
    op.drop_table("authenticator")
