"""account support: the last log-in, and the status a suspended account returns to
(MEM-3, MEM-4)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        # MEM-3: when the account last opened a session (support reads it).
        batch_op.add_column(
            sa.Column("last_login_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        # MEM-4: the status a suspended account had, which `account restore` gives back.
        batch_op.add_column(
            sa.Column("suspended_from", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True)
        )


def downgrade() -> None:
    # A suspended account goes back to the status it had: the old code knows no other.
    op.execute(
        "UPDATE account SET status = suspended_from"
        " WHERE status = 'suspended' AND suspended_from IS NOT NULL"
    )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("suspended_from")
        batch_op.drop_column("last_login_at")
