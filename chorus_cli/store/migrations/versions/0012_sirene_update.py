"""sirene update: where `chorus sirene update` resumes, and the import's départements

Revision ID: 0012
Revises: 0011

``sirene_meta`` (one row, rewritten by each import) learns what the incremental
updates need (STR-2): the date the next update asks from, the cursor of a run that was
cut (resumed by the next one), when that run started and when the last one ended, and
the départements an import kept (``--departments``), which updates keep too.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sirene_meta", schema=None) as batch_op:
        batch_op.add_column(sa.Column("update_since", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("update_cursor", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("update_started", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("departments", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sirene_meta", schema=None) as batch_op:
        for name in ("departments", "updated_at", "update_started", "update_cursor"):
            batch_op.drop_column(name)
        batch_op.drop_column("update_since")
