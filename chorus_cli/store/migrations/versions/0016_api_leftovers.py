"""what the first form of 0013 left on stores that ran it (issue 22)

Revision ID: 0016
Revises: 0015

Migration 0013 first created ``api_token`` (bearer tokens stored as SHA-256) and
``api_client.last_used_at``; bearer tokens are now signed, never stored (API-3), and a
client's last use is read from the audit, so 0013 was rewritten without them. A store
migrated with the first form still holds both, unused: they go here. A store migrated
with the present 0013 has neither, and this is a no-op.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if inspector.has_table("api_token"):
        op.drop_table("api_token")
    if "last_used_at" in {column["name"] for column in inspector.get_columns("api_client")}:
        with op.batch_alter_table("api_client", schema=None) as batch_op:
            batch_op.drop_column("last_used_at")


def downgrade() -> None:
    # Nothing to put back: the present 0013 never had them.
    pass
