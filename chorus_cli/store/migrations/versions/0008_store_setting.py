"""store settings: the id of the key that seals TOTP seeds (SEC-2)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The key itself never enters the store; plaintext seeds of older stores are sealed
    # by `chorus db upgrade` (or at their next accepted log-in), not here: a migration
    # does not reach for a keyring.
    op.create_table(
        "store_setting",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("store_setting")
