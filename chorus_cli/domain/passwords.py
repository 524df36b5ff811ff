"""Password policy (ACC-5): every broken rule is named, not just the first."""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from chorus_cli.domain.secrets import verify_password
from chorus_cli.kernel.errors import BadInput

MIN_LENGTH = 12
MAX_LENGTH = 128
HISTORY = 5


def normalise(password: str) -> str:
    """NFKC, so the same password typed on two keyboards hashes the same."""
    return unicodedata.normalize("NFKC", password)


def typed(password: str | None) -> str:
    """A password given to be checked (log-in, re-authentication), normalised; an empty
    one is bad input (exit 2), never a failed attempt counted toward the lockout (SEC-7)."""
    from chorus_cli.kernel.errors import BadInput

    if not password:
        raise BadInput("sec7.empty_password")
    return normalise(password)


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("chorus_cli.data").joinpath("common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def broken_rules(
    password: str,
    *,
    login_email: str,
    first_name: str,
    last_name: str,
    previous_hashes: list[str] = (),  # type: ignore[assignment]
) -> list[str]:
    """The keys of the ACC-5 rules this password breaks, in a stable order."""
    broken: list[str] = []
    if len(password) < MIN_LENGTH:
        broken.append("too_short")
    if len(password) > MAX_LENGTH:
        broken.append("too_long")
    if not any(c.islower() for c in password):
        broken.append("no_lower")
    if not any(c.isupper() for c in password):
        broken.append("no_upper")
    if not any(c.isdigit() for c in password):
        broken.append("no_digit")
    if all(c.isalnum() for c in password):
        broken.append("no_special")
    if any(unicodedata.category(c) == "Cc" for c in password):  # NUL, tab, escape…
        broken.append("control")
    folded = password.casefold()
    local_part = login_email.split("@", 1)[0].casefold()
    personal = [p for p in (local_part, first_name.casefold(), last_name.casefold()) if len(p) >= 3]
    if any(p in folded for p in personal):
        broken.append("personal")
    letters = "".join(c for c in folded if c.isalpha())
    common = common_passwords()
    if folded in common or letters in common:
        broken.append("common")
    if len(password) <= MAX_LENGTH and any(verify_password(h, password) for h in previous_hashes):
        broken.append("reused")
    return broken


def check(password: str, **account: object) -> str:
    """Return the normalised password, or raise BadInput naming every broken rule."""
    password = normalise(password)
    broken = broken_rules(password, **account)  # type: ignore[arg-type]
    if broken:
        raise BadInput("acc5.weak_password", rules=broken)
    return password
