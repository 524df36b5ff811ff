"""mon compte: photo dimensions, notification choices, the weekly summary, reactivation
(SET-1, SET-2, SET-4)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        # SET-1: the photo's pixel size, read from its bytes when it is stored.
        batch_op.add_column(sa.Column("photo_width", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("photo_height", sa.Integer(), nullable=True))
        # SET-2: subscribed to the weekly summary; the end of the last period mailed, so
        # a second run in the same week sends nothing new.
        batch_op.add_column(
            sa.Column("weekly_summary", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("weekly_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )

    # SET-4: a reactivation is a log-in (password, second factor) that ends otherwise.
    with op.batch_alter_table("login_challenge", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "purpose",
                sqlmodel.sql.sqltypes.AutoString(length=12),
                nullable=False,
                server_default="login",
            )
        )

    # SET-2: the applications an account chose to be notified by (a row: «on»).
    op.create_table(
        "notification_choice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("application", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "application"),
    )
    with op.batch_alter_table("notification_choice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_choice_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notification_choice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_choice_account_id"))
    op.drop_table("notification_choice")
    with op.batch_alter_table("login_challenge", schema=None) as batch_op:
        batch_op.drop_column("purpose")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("weekly_until")
        batch_op.drop_column("weekly_summary")
        batch_op.drop_column("photo_height")
        batch_op.drop_column("photo_width")
