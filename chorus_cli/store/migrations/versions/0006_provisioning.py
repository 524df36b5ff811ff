"""provisioning: accounts initialised by a flow or a correspondent (PUB-2)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        # PUB-2: set on accounts initialised from MADRHAS data (a flow, a correspondent);
        # cleared when the owner completes «Mon compte» (`chorus account update`).
        batch_op.add_column(
            sa.Column("to_complete", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("to_complete")
