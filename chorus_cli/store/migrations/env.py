"""Alembic environment: runs on the connection chorus hands over (never reads an ini)."""

from alembic import context
from sqlmodel import SQLModel

import chorus_cli.store.models

chorus_cli.store.models.load_all()  # registers every table

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")


def include_name(name, type_, parent_names):  # type: ignore[no-untyped-def]
    """Autogenerate leaves the SIRENE index alone: its tables (and SQLite's FTS5 shadow
    tables) are made by migration 0003 and rebuilt by each import, not SQLModel's."""
    return not (type_ == "table" and name and name.startswith("sirene_"))


if connection is None:  # `alembic` run by hand: offline SQL for the given URL
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
