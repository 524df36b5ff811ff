"""structure settings read by ``consulterStructure`` (issue 22)

Revision ID: 0014
Revises: 0013

``structure.service_code_required`` and ``structure.engagement_number_required``:
whether invoices to the structure must name a service code, an engagement number
(``codeServiceDoitEtreRenseigne``, ``numeroEJDoitEtreRenseigne``); false for every
structure already there.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("structure", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "service_code_required", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column(
                "engagement_number_required",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("structure", schema=None) as batch_op:
        batch_op.drop_column("engagement_number_required")
        batch_op.drop_column("service_code_required")
