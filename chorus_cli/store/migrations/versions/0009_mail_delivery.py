"""mail delivery: a stable Message-ID, attempts, back-off and claims (SEC-8)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mail", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True)
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.create_index(
            "ix_mail_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )
    # Before SEC-8 `failed` meant "retry after every command"; it now means "refused for
    # good". Those mails are due again once: a permanent refusal will say so this time.
    op.execute("UPDATE mail SET status = 'pending' WHERE status = 'failed'")


def downgrade() -> None:
    op.execute("UPDATE mail SET status = 'failed' WHERE status IN ('sending', 'discarded')")
    with op.batch_alter_table("mail", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_status_next_attempt_at")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("message_id")
