"""Writing checked rows into the store (OPS-1, PUB-1, PUB-2): what each row changes, as
the single commands would, but set-based.

A loader takes chunks of rows that passed their own checks (``validate``), looks up
what they name with one query per chunk (structures, services, accounts, attachments,
SIRENE), decides each row (created, updated, unchanged, or a bad row with its rule),
then writes the chunk's rows table by table. It runs inside the command's one
transaction: the service rolls it back when any row is bad, or for ``--dry-run``.

Rows are applied in file order and each sees what the rows before it did (the first
account attached to a structure without a primary manager becomes it, PUB-1).

One module per kind (``accounts``, ``structures``, ``attachments``) on what they share
(``base``); the rules about attachments, profiles and primary managers are
``domain.granting``'s, the single commands' own.
"""

from __future__ import annotations

from chorus_cli.bulk.load.accounts import AccountsLoader
from chorus_cli.bulk.load.attachments import AttachmentsLoader
from chorus_cli.bulk.load.base import Loader
from chorus_cli.bulk.load.structures import StructuresLoader

LOADERS = {
    "accounts": AccountsLoader,
    "structures": StructuresLoader,
    "attachments": AttachmentsLoader,
}

__all__ = ["LOADERS", "Loader"]
