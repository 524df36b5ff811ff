"""subscription requests: the profile an «abonnement» asks for (MEM-5, ATT-3)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ATTACHMENT_PENDING = sa.text("status = 'pending' AND type <> 'subscription'")
SUBSCRIPTION_PENDING = sa.text("status = 'pending' AND type = 'subscription'")
ONE_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("attachment_request", schema=None) as batch_op:
        # MEM-5: the application and level a subscription asks for (NULL otherwise).
        batch_op.add_column(
            sa.Column("application", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch_op.add_column(
            sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )
        # ATT-1 keeps one pending attachment request per account and structure; MEM-5
        # one pending subscription per account, structure and application.
        batch_op.drop_index("uq_attachment_request_one_pending")
        batch_op.create_index(
            "uq_attachment_request_one_pending",
            ["account_id", "structure_id"],
            unique=True,
            sqlite_where=ATTACHMENT_PENDING,
            postgresql_where=ATTACHMENT_PENDING,
        )
        batch_op.create_index(
            "uq_subscription_request_one_pending",
            ["account_id", "structure_id", "application"],
            unique=True,
            sqlite_where=SUBSCRIPTION_PENDING,
            postgresql_where=SUBSCRIPTION_PENDING,
        )


def downgrade() -> None:
    # The old code knows no subscription with a profile: its pending ones lapse.
    op.execute(
        "UPDATE attachment_request SET status = 'lapsed'"
        " WHERE type = 'subscription' AND status = 'pending'"
    )
    with op.batch_alter_table("attachment_request", schema=None) as batch_op:
        batch_op.drop_index("uq_subscription_request_one_pending")
        batch_op.drop_index("uq_attachment_request_one_pending")
        batch_op.create_index(
            "uq_attachment_request_one_pending",
            ["account_id", "structure_id"],
            unique=True,
            sqlite_where=ONE_PENDING,
            postgresql_where=ONE_PENDING,
        )
        batch_op.drop_column("level")
        batch_op.drop_column("application")
