"""Where the store lives and what the environment configures; cheap to import."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BASE_URL = "https://portail.chorus-pro.gouv.fr"
DEFAULT_SENDER = "ne-pas-repondre@chorus-pro.gouv.fr"
PUBLIC_SENDER = "noreply@dgfip.finances.gouv.fr"


def data_dir() -> Path:
    """The user data dir (platformdirs), created on demand."""
    configured = os.environ.get("CHORUS_DATA_DIR")
    if configured:
        path = Path(configured)
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir("chorus", appauthor=False))
    # The store and the session fallback file live here: readable by the user only.
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'chorus.db'}"


@dataclass
class Settings:
    """Everything a command needs to know about its surroundings."""

    database_url: str
    base_url: str = DEFAULT_BASE_URL
    sender: str = DEFAULT_SENDER
    public_sender: str = PUBLIC_SENDER
    smtp_url: str | None = None
    smtp_ca_file: str | None = None  # SEC-8: a PEM file TLS verifies against, else the system's
    lang: str | None = None  # explicit choice (--lang or CHORUS_LANG); None: account preference
    # SEC-2: the TOTP seed key(s), base64 of 32 bytes, newest first; else the keyring.
    seed_key: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, db: str | None = None, lang: str | None = None) -> Settings:
        return cls(
            database_url=db or os.environ.get("CHORUS_DATABASE_URL") or default_database_url(),
            base_url=os.environ.get("CHORUS_BASE_URL", DEFAULT_BASE_URL).rstrip("/"),
            sender=os.environ.get("CHORUS_MAIL_FROM", DEFAULT_SENDER),
            public_sender=os.environ.get("CHORUS_PUBLIC_MAIL_FROM", PUBLIC_SENDER),
            smtp_url=os.environ.get("CHORUS_SMTP_URL") or None,
            smtp_ca_file=os.environ.get("CHORUS_SMTP_CA_FILE") or None,
            lang=lang or os.environ.get("CHORUS_LANG") or None,
            seed_key=os.environ.get("CHORUS_SEED_KEY") or None,
        )
