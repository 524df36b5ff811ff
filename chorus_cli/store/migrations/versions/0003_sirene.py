"""sirene: the offline SIRENE index (empty until `chorus sirene import`)

Revision ID: 0003
Revises: 0002

The same tables are rebuilt under ``*_new`` names by each import and swapped in
(chorus_cli/store/sirene_tables.py); tests check the two stay the same shape.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen copies of chorus_cli.store.sirene_tables's expressions at this revision.
TEXT_SQL = (
    "replace(raison_sociale, '[ND]', '') || ' ' ||"
    " coalesce(CASE WHEN enseigne = raison_sociale THEN NULL ELSE enseigne END, '')"
)
ACCENTED = "ÀÂÄÁÃÅàâäáãåÇçÉÈÊËéèêëÍÌÎÏíìîïÑñÓÒÔÖÕóòôöõÚÙÛÜúùûüÝŸýÿ"
PLAIN = "aaaaaaaaaaaacceeeeeeeeiiiiiiiinnoooooooooouuuuuuuuyyyy"


def _key() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sirene_establishment",
        sa.Column("siret", _key(), primary_key=True, autoincrement=False),
        sa.Column("raison_sociale", sa.Text(), nullable=False),
        sa.Column("enseigne", sa.Text(), nullable=True),
        sa.Column("categorie_juridique", sa.String(4), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("non_diffusible", sa.Boolean(), nullable=False),
        sa.Column("siege", sa.Boolean(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("postal_code", sa.String(10), nullable=True),
        sa.Column("commune", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
    )
    op.create_table(
        "sirene_unit",
        sa.Column("siren", _key(), primary_key=True, autoincrement=False),
        sa.Column("raison_sociale", sa.Text(), nullable=False),
        sa.Column("categorie_juridique", sa.String(4), nullable=True),
        sa.Column("non_diffusible", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "sirene_meta",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("imported_at", sa.String(32), nullable=False),
        sa.Column("establishments", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("skipped", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE sirene_name_fts USING fts5(name, sign, content='',"
            " tokenize='unicode61 remove_diacritics 2')"
        )
    elif op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_sirene_establishment_name ON sirene_establishment USING gin"
            f" (to_tsvector('simple'::regconfig, translate(lower({TEXT_SQL}),"
            f" '{ACCENTED}', '{PLAIN}')))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS sirene_name_fts")
    op.drop_table("sirene_meta")
    op.drop_table("sirene_unit")
    op.drop_table("sirene_establishment")
