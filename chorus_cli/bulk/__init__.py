"""Flows (OPS-1/2): read, check, load and export accounts, structures and attachments in bulk."""
