"""Alembic's environment and revisions (a package so that the import linter reads them)."""
