"""The store's own settings: a name and a value (the id of its TOTP seed key, SEC-2)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class StoreSetting(SQLModel, table=True):
    """One setting of the store, e.g. ``seed_key_id``: which key seals its TOTP seeds.

    Never a secret: the key itself is kept outside the store (CHORUS_SEED_KEY or the
    keyring), so whoever copies the store does not get it.
    """

    __tablename__ = "store_setting"
    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)
