"""SEC-2 (issue 11): TOTP seeds are sealed in the store under a key kept outside it
(CHORUS_SEED_KEY, else the keyring), and `chorus db rotate-key` changes that key.

Each test runs on SQLite and on PostgreSQL (the ``cli`` fixture). The store is read with
plain SQL, as anyone who can open its file would read it; codes come from OATH Toolkit.
"""

from __future__ import annotations

import base64
import json
import os

from chorus_cli.i18n import message
from tests.conftest import PASSWORD
from tests.memory_keyring import MemoryKeyring
from tests.test_copy import target  # noqa: F401  (the fixture: a store of the other engine)
from tests.test_mfa import (
    EMAIL,
    account_row,
    enrol,
    oathtool,
    rows,
    totp_login,
    uow_for,
    where_found,
)

ADMIN = "ada.admin@example.fr"


def data(cli, kind: str = "totp") -> list[dict]:
    """The JSON ``data`` of every factor row of that type, as the store holds it."""
    found = rows(cli, "SELECT data FROM authenticator WHERE type = :t ORDER BY id", t=kind)
    return [json.loads(r["data"]) if isinstance(r["data"], str) else r["data"] for r in found]


def store_key_id(cli) -> str | None:
    found = rows(cli, "SELECT value FROM store_setting WHERE name = 'seed_key_id'")
    return found[0]["value"] if found else None


def keyring_key_ids() -> set[str]:
    return {
        user.split(":", 1)[1]
        for (service, user) in MemoryKeyring.entries
        if service == "chorus-cli" and user.startswith("seed-key:")
    }


def forget_seed_keys() -> None:
    """This machine loses its seed keys (another machine, a wiped keyring)."""
    for entry in [e for e in MemoryKeyring.entries if e[1].startswith("seed-key:")]:
        del MemoryKeyring.entries[entry]


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def login_again(cli, secret: str):
    """Log out, wait one step, log in with the app's code."""
    cli("logout")
    cli.clock.advance(seconds=30)
    return totp_login(cli, oathtool(secret, cli.clock.now()))


def as_admin(cli) -> None:
    """The store's first admin (made on first call), logged in (Marie's session ends)."""
    cli("logout")
    booted = cli("admin", "bootstrap", "--email", ADMIN, "--last-name", "Admin",
                 "--first-name", "Ada")  # fmt: skip
    if booted.exit_code == 0:
        link = cli.last_link(ADMIN)
        activated = cli("account", "activate", link, "--password-stdin", input=PASSWORD + "\n")
        assert activated.exit_code == 0
    assert cli.login(ADMIN).exit_code == 0


def make_plaintext(cli, secret: str) -> None:
    """Turn Marie's app back into a row as chorus wrote it before seeds were sealed, on a
    store that never had a seed key."""
    from sqlmodel import select

    from chorus_cli.store.models import Authenticator, StoreSetting

    with uow_for(cli) as uow:
        row = uow.session.exec(select(Authenticator).where(Authenticator.type == "totp")).one()
        row.data = {"secret": secret, "last_step": row.data["last_step"]}
        uow.session.add(row)
        setting = uow.session.get(StoreSetting, "seed_key_id")
        if setting is not None:
            uow.session.delete(setting)
        uow.commit()
    forget_seed_keys()


# --- the store holds no seed in clear ------------------------------------------------


def test_sec2_store_holds_no_totp_secret_after_enrolment(cli, clock):
    cli.logged_in()
    added = cli("mfa", "totp", "add", "--json", input=PASSWORD + "\n")
    secret = added.json()["secret"]
    assert where_found(cli, secret) == set()  # the pending enrolment is sealed too
    assert cli("mfa", "totp", "confirm", oathtool(secret, clock.now())).exit_code == 0
    assert where_found(cli, secret) == set()
    [stored] = data(cli)
    assert set(stored) == {"sealed", "last_step"}
    kid = store_key_id(cli)
    assert stored["sealed"].startswith(f"v1:{kid}:")
    assert keyring_key_ids() == {kid}  # made on first use, kept outside the store
    result = login_again(cli, secret)
    assert result.exit_code == 0, result.stderr
    assert where_found(cli, secret) == set()


def test_sec2_a_sealed_seed_copied_onto_another_account_does_not_open(cli, clock):
    cli.logged_in()
    marie = enrol(cli)
    cli("logout")
    pierre = "pierre.durand@example.fr"
    cli.logged_in(pierre)
    enrol(cli)
    cli("logout")
    from sqlmodel import select

    from chorus_cli.store.models import Account, Authenticator

    with uow_for(cli) as uow:  # someone who can write the store moves Marie's seed
        apps = {
            uow.session.get(Account, a.account_id).login_email: a
            for a in uow.session.exec(select(Authenticator)).all()
        }
        apps[pierre].data = dict(apps[EMAIL].data)
        uow.session.add(apps[pierre])
        uow.commit()
    clock.advance(seconds=30)
    result = cli("login", pierre, "--password-stdin", "--code", oathtool(marie, clock.now()),
                 input=PASSWORD + "\n")  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.strip() == message("sec2.seed_unreadable", lang="fr")


# --- a key this machine does not hold -------------------------------------------------


def test_sec2_missing_key_is_one_sentence_exit_1_and_no_failure_counted(cli, clock):
    cli.logged_in()
    secret = enrol(cli)
    kid = store_key_id(cli)
    forget_seed_keys()
    result = login_again(cli, secret)
    assert result.exit_code == 1
    assert result.stderr.strip() == message("sec2.seed_key_missing", lang="fr", key_id=kid)
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert account_row(cli)["failed_logins"] == 0  # not the user's fault

    english = totp_login(cli, oathtool(secret, clock.now()), "--lang", "en", "--json")
    assert english.exit_code == 1
    error = json.loads(english.stderr)["error"]
    assert error["kind"] == "seed_key_missing" and error["code"] == 1
    assert "CHORUS_SEED_KEY" in error["message"] and "SEC-2" in error["message"]


def test_sec2_chorus_seed_key_is_honoured(cli, clock):
    key = new_key()
    cli.env["CHORUS_SEED_KEY"] = key
    cli.logged_in()
    secret = enrol(cli)
    from chorus_cli.domain.factors.seeds import key_id

    assert store_key_id(cli) == key_id(base64.b64decode(key))
    assert keyring_key_ids() == set()  # nothing of it in this machine's keyring
    assert login_again(cli, secret).exit_code == 0

    del cli.env["CHORUS_SEED_KEY"]  # another machine, without the variable
    refused = login_again(cli, secret)
    assert refused.exit_code == 1 and "CHORUS_SEED_KEY" in refused.stderr

    cli.env["CHORUS_SEED_KEY"] = new_key()  # a wrong key is not the store's key
    assert login_again(cli, secret).exit_code == 1

    cli.env["CHORUS_SEED_KEY"] = key
    assert login_again(cli, secret).exit_code == 0


def test_sec2_a_malformed_chorus_seed_key_is_bad_input(cli):
    cli.logged_in()
    cli.env["CHORUS_SEED_KEY"] = base64.b64encode(b"too short").decode()
    result = cli("mfa", "totp", "add", input=PASSWORD + "\n")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == message("sec2.seed_key_invalid", lang="fr")
    assert rows(cli, "SELECT id FROM factor_state") == []


# --- seeds from before sealing --------------------------------------------------------


def test_sec2_legacy_plaintext_row_still_logs_in_and_is_resealed(cli, clock):
    cli.logged_in()
    secret = enrol(cli)
    make_plaintext(cli, secret)
    assert data(cli)[0]["secret"] == secret
    result = login_again(cli, secret)
    assert result.exit_code == 0, result.stderr
    [stored] = data(cli)
    assert "secret" not in stored and stored["sealed"].startswith(f"v1:{store_key_id(cli)}:")
    assert where_found(cli, secret) == set()
    assert login_again(cli, secret).exit_code == 0


def test_sec2_db_upgrade_seals_legacy_rows(cli, clock):
    cli.logged_in()
    secret = enrol(cli)
    make_plaintext(cli, secret)
    upgraded = cli("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr
    assert message("sec2.done_sealed", lang="fr", count=1) in upgraded.stderr
    assert where_found(cli, secret) == set()
    assert login_again(cli, secret).exit_code == 0
    again = cli("db", "upgrade")  # nothing left in clear: nothing said
    assert again.exit_code == 0 and "SEC-2" not in again.stderr


# --- db rotate-key --------------------------------------------------------------------


def test_sec2_rotate_key_reseals_every_seed_and_removes_the_old_key(cli, clock):
    cli.logged_in()
    secret = enrol(cli)
    cli("logout")
    pierre = "pierre.durand@example.fr"
    cli.logged_in(pierre)
    pending = cli("mfa", "totp", "add", "--json", input=PASSWORD + "\n").json()["secret"]
    old = store_key_id(cli)
    as_admin(cli)

    rotated = cli("db", "rotate-key", "--json")
    assert rotated.exit_code == 0, rotated.stderr
    new = store_key_id(cli)
    assert new != old
    assert rotated.json() == {
        "old_key_id": old,
        "new_key_id": new,
        "resealed": 2,  # Marie's app and Pierre's pending enrolment
        "old_key_removed": True,
    }
    assert message("sec2.done_rotated", lang="fr", count=2, new=new) in rotated.stderr
    assert keyring_key_ids() == {new}  # the old key is gone
    sealed = [r["data"] for r in rows(cli, "SELECT data FROM factor_state")] + data(cli)
    assert all(f"v1:{new}:" in str(d) for d in sealed) and len(sealed) == 2
    assert where_found(cli, secret) == set() and where_found(cli, pending) == set()
    audit = cli("audit", "list", "--action", "db.rotate_key", "--json").json()
    assert audit[0]["actor"] == ADMIN

    cli("logout")
    cli.clock.advance(seconds=30)
    result = totp_login(cli, oathtool(secret, clock.now()))
    assert result.exit_code == 0, result.stderr
    cli("logout")
    assert cli.login(pierre).exit_code == 0  # Pierre's enrolment still confirms
    assert cli("mfa", "totp", "confirm", oathtool(pending, clock.now())).exit_code == 0


def test_sec2_rotate_key_in_english(cli):
    as_admin(cli)
    result = cli("db", "rotate-key", "--lang", "en")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip() == message(
        "sec2.done_rotated", lang="en", count=0, new=store_key_id(cli)
    )


def test_sec2_rotate_key_is_for_admins(cli, unchanged):
    cli.logged_in()
    enrol(cli)
    keys = keyring_key_ids()
    with unchanged():
        result = cli("db", "rotate-key")
        assert result.exit_code == 4
    assert keyring_key_ids() == keys
    cli("logout")
    with unchanged():
        assert cli("db", "rotate-key").exit_code == 5


def test_sec2_rotate_key_without_the_old_key_changes_nothing(cli, unchanged):
    cli.logged_in()
    enrol(cli)
    as_admin(cli)
    forget_seed_keys()
    with unchanged():
        result = cli("db", "rotate-key")
        assert result.exit_code == 1
        assert "SEC-2" in result.stderr
    assert keyring_key_ids() == set()  # the new key it drew is not left behind


def test_sec2_rotate_key_moves_to_the_key_of_chorus_seed_key(cli, clock):
    cli.logged_in()
    secret = enrol(cli)  # sealed with a keyring key
    as_admin(cli)
    key = new_key()
    cli.env["CHORUS_SEED_KEY"] = key
    rotated = cli("db", "rotate-key", "--json")
    assert rotated.exit_code == 0, rotated.stderr
    assert rotated.json()["resealed"] == 1 and rotated.json()["old_key_removed"]
    assert keyring_key_ids() == set()
    assert cli("logout").exit_code == 0
    clock.advance(seconds=30)
    assert totp_login(cli, oathtool(secret, clock.now())).exit_code == 0

    as_admin(cli)
    same = cli("db", "rotate-key")  # the same key again: say how to rotate it
    assert same.exit_code == 1 and "CHORUS_SEED_KEY" in same.stderr
    newer = new_key()
    cli.env["CHORUS_SEED_KEY"] = f"{newer},{key}"  # new first, the old one after a comma
    rotated = cli("db", "rotate-key")
    assert rotated.exit_code == 0, rotated.stderr
    assert message("sec2.done_old_kept", lang="fr", old=rotated_from(key)) in rotated.stderr
    cli.env["CHORUS_SEED_KEY"] = newer
    cli("logout")
    clock.advance(seconds=30)
    assert totp_login(cli, oathtool(secret, clock.now())).exit_code == 0


def rotated_from(key: str) -> str:
    from chorus_cli.domain.factors.seeds import key_id

    return key_id(base64.b64decode(key))


def test_sec2_a_copied_store_opens_with_the_same_key_on_this_machine(cli, clock, target):  # noqa: F811
    cli.logged_in()
    secret = enrol(cli)
    cli("logout")
    copied = cli("db", "copy", "--to", target)
    assert copied.exit_code == 0, copied.stderr
    clock.advance(seconds=30)
    code = oathtool(secret, clock.now())
    result = cli("login", EMAIL, "--password-stdin", "--code", code, "--db", target,
                 input=PASSWORD + "\n")  # fmt: skip
    assert result.exit_code == 0, result.stderr
