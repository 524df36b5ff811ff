"""Accounts: creation and activation (ACC-1..8), password change (MFA-1), «Mon compte» (SET-1).

Every test drives the CLI as a user would and checks what a user sees: the exit code,
the sentence on stderr (naming the rule), JSON on stdout, the outbox and the store.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from argon2 import PasswordHasher
from sqlalchemy import MetaData, select, text

from chorus_cli.store.engine import get_engine
from tests.conftest import NEW_PASSWORD, PASSWORD, snapshot

MARIE = "marie.curie@example.fr"
UNKNOWN = "personne@example.fr"
CONTACT = "secretariat@example.fr"
THIRD = "Troisieme-Mdp-3!"


# --- helpers: read the store, follow mailed links -------------------------------------


def rows(cli, table: str) -> list[dict]:
    with get_engine(cli.url).connect() as conn:
        return [dict(r) for r in conn.execute(text(f'SELECT * FROM "{table}"')).mappings()]


def account_row(cli, email: str = MARIE) -> dict:
    (row,) = [r for r in rows(cli, "account") if r["login_email"] == email]
    return row


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def activate(cli, link: str, password: str = PASSWORD, *lang: str):
    return cli(*lang, "account", "activate", link, "--password-stdin", input=password + "\n")


def reset(cli, email: str, password: str):
    """The forgotten-password procedure, end to end (ACC-6)."""
    assert cli("account", "forgot-password", email).exit_code == 0
    return cli(
        "account", "reset-password", cli.last_link(email), "--password-stdin", input=password + "\n"
    )


def create_with_contact(cli, email: str = MARIE, contact: str = CONTACT):
    result = cli(
        "account", "create", "--email", email, "--last-name", "Curie", "--first-name", "Marie",
        "--contact-email", contact, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return result


def where_found(cli, secret: str) -> set[tuple[str, str]]:
    """Every (table, column) of the store whose value contains ``secret``."""
    engine = get_engine(cli.url)
    metadata = MetaData()
    metadata.reflect(engine)
    found = set()
    with engine.connect() as conn:
        for name, table in metadata.tables.items():
            for row in conn.execute(select(table)).mappings():
                found |= {(name, col) for col, value in row.items() if secret in str(value)}
    return found


def subjects(cli, to: str) -> list[str]:
    return [m["subject"] for m in cli.mails(to)]


# --- ACC-1: fields --------------------------------------------------------------------


def test_acc1_last_and_first_names_are_mandatory(cli, unchanged):
    with unchanged():
        missing = cli("account", "create", "--email", MARIE, "--first-name", "Marie")
        assert missing.exit_code == 2
        assert "--last-name" in missing.stderr
        for last, first, field in (("", "Marie", "nom"), ("Curie", "   ", "prénom")):
            result = cli(
                "account", "create", "--email", MARIE, "--last-name", last, "--first-name", first
            )
            assert result.exit_code == 2
            assert "ACC-1" in result.stderr
            assert f"Le champ {field} est obligatoire" in result.stderr
    assert cli.mails() == []


def test_acc1_invalid_email_is_refused(cli, unchanged):
    for email in ("marie.curie", "marie@", "marie curie@example.fr", ""):
        with unchanged():
            result = cli.create(email)
        assert result.exit_code == 2, email
        assert "ACC-1" in result.stderr
        assert "adresse de connexion" in result.stderr
        assert result.stdout == ""
    with unchanged():
        bad_contact = cli(
            "account", "create", "--email", MARIE, "--last-name", "Curie", "--first-name", "Marie",
            "--contact-email", "secretariat",
        )  # fmt: skip
    assert bad_contact.exit_code == 2
    assert "adresse de contact (ACC-1)" in bad_contact.stderr


def test_acc1_phone_is_stored_e164_from_french_national_format(cli):
    result = cli(
        "account", "create", "--email", MARIE, "--last-name", "Curie", "--first-name", "Marie",
        "--phone", "01 23 45 67 89", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.json()["phone"] == "+33123456789"
    assert account_row(cli)["phone"] == "+33123456789"


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("0262 12 34 56", "+262262123456"),  # Réunion
        ("05 90 84 49 67", "+590590844967"),  # Guadeloupe
        ("0696 12 34 56", "+596696123456"),  # Martinique
        ("0594 45 64 11", "+594594456411"),  # Guyane
        ("+262 262 12 34 56", "+262262123456"),
    ],
)
def test_acc1_overseas_departments_phones_in_their_national_format(cli, typed, stored):
    result = cli(
        "account", "create", "--email", MARIE, "--last-name", "Curie", "--first-name", "Marie",
        "--phone", typed, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.json()["phone"] == stored


def test_acc1_invalid_phone_is_refused(cli, unchanged):
    for phone in ("12345", "01 23", "téléphone", "06 12 34 5"):
        with unchanged():
            result = cli(
                "account", "create", "--email", MARIE, "--last-name", "Curie",
                "--first-name", "Marie", "--phone", phone,
            )  # fmt: skip
        assert result.exit_code == 2, phone
        assert "ACC-1" in result.stderr
        assert phone in result.stderr


def test_acc1_contact_email_defaults_to_the_login(cli):
    result = cli(
        "account", "create", "--email", MARIE, "--last-name", "Curie", "--first-name", "Marie",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    shown = result.json()
    assert shown["login_email"] == shown["contact_email"] == MARIE
    assert shown["phone"] is None
    other = create_with_contact(cli, "pierre.curie@example.fr", "Labo@Example.fr").json()
    assert other["contact_email"] == "labo@example.fr"


def test_acc1_login_is_unique_case_insensitively(cli, unchanged):
    first = cli.create("Marie.Curie@Example.FR")
    assert first.exit_code == 0, first.stderr
    assert account_row(cli)["login_email"] == MARIE
    with unchanged():
        again = cli.create("MARIE.CURIE@example.fr")
    assert again.exit_code == 1
    assert "ACC-2" in again.stderr
    assert len(rows(cli, "account")) == 1


# --- ACC-2: never a second account ----------------------------------------------------


def test_acc2_duplicate_is_refused_with_the_forgot_password_hint(cli, unchanged):
    assert cli.create().exit_code == 0
    cli.active_account("pierre.curie@example.fr")
    for email in (MARIE, "pierre.curie@example.fr"):  # pending, then active
        with unchanged():
            result = cli.create(email, first="Marie-Anne")
        assert result.exit_code == 1
        assert "ACC-2" in result.stderr
        assert f"chorus account forgot-password {email}" in result.stderr
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1


# --- ACC-3: pending account, 60-minute single-use activation link ---------------------


def test_acc3_new_account_is_pending_and_mailed_an_activation_link_to_its_login(cli):
    result = create_with_contact(cli)
    assert result.json()["status"] == "pending"
    assert "60 minutes" in result.stderr
    assert account_row(cli)["status"] == "pending"
    assert cli.mails(CONTACT) == []
    (mail,) = cli.mails(MARIE)
    assert mail["subject"] == "Chorus Pro : activez votre compte"
    assert re.search(r"https://portail\.chorus-pro\.gouv\.fr/activate\?token=\S+", mail["body"])
    assert "60 minutes" in mail["body"]


def test_acc3_activation_link_is_valid_59_minutes(cli, clock):
    cli.create()
    link = cli.last_link(MARIE)
    clock.advance(minutes=59)
    result = activate(cli, link)
    assert result.exit_code == 0, result.stderr
    assert account_row(cli)["status"] == "active"
    assert cli.mails(MARIE)[0]["subject"] == "Chorus Pro : votre compte est activé"


def test_acc3_activation_link_expires_after_60_minutes(cli, clock, unchanged):
    cli.create()
    link = cli.last_link(MARIE)
    clock.advance(minutes=60)
    with unchanged():
        result = activate(cli, link)
    assert result.exit_code == 6
    assert "ACC-4" in result.stderr
    assert "60 minutes" in result.stderr
    assert account_row(cli)["status"] == "pending"


def test_acc3_activation_link_is_single_use(cli, unchanged):
    cli.create()
    link = cli.last_link(MARIE)
    assert activate(cli, link).exit_code == 0
    with unchanged():
        again = activate(cli, link, NEW_PASSWORD)
    assert again.exit_code == 6
    assert "ACC-3" in again.stderr
    assert "déjà été utilisé" in again.stderr
    assert cli.login(MARIE, PASSWORD).exit_code == 0


def test_acc3_unknown_or_malformed_link_is_refused(cli, unchanged):
    cli.create()
    link = cli.last_link(MARIE)
    with unchanged():
        unknown = activate(cli, link[:-4] + "AAAA")
        malformed = activate(cli, "https://portail.chorus-pro.gouv.fr/activate")
    assert unknown.exit_code == 6
    assert "ACC-3" in unknown.stderr
    assert malformed.exit_code == 2


def test_acc3_refused_password_does_not_use_up_the_link(cli, unchanged):
    cli.create()
    link = cli.last_link(MARIE)
    with unchanged():
        assert activate(cli, link, "court").exit_code == 2
    assert activate(cli, link).exit_code == 0


# --- ACC-4: password typed twice; an expired link points to forgot-password -----------


def test_acc4_password_is_typed_twice(cli, unchanged):
    cli.create()
    link = cli.last_link(MARIE)
    with unchanged():
        mismatch = cli("account", "activate", link, input=f"{PASSWORD}\n{NEW_PASSWORD}\n")
    assert mismatch.exit_code == 2
    assert "ACC-4" in mismatch.stderr
    assert PASSWORD not in mismatch.stderr + mismatch.stdout
    with unchanged():
        one_line = cli("account", "activate", link, input=f"{PASSWORD}\n")
    assert one_line.exit_code == 2
    ok = cli("account", "activate", link, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert ok.exit_code == 0, ok.stderr
    assert f"chorus login {MARIE}" in ok.stderr
    assert cli.login(MARIE).exit_code == 0


def test_acc4_expired_link_names_forgot_password_which_sends_a_fresh_link(cli, clock, unchanged):
    cli.create()
    expired = cli.last_link(MARIE)
    clock.advance(minutes=61)
    with unchanged():
        result = activate(cli, expired)
    assert result.exit_code == 6
    assert "ACC-4" in result.stderr
    assert "chorus account forgot-password" in result.stderr

    assert cli("account", "forgot-password", MARIE).exit_code == 0
    fresh = cli.last_link(MARIE)
    assert token_of(fresh) != token_of(expired)
    assert "/reset-password?token=" in fresh
    done = activate(cli, fresh)
    assert done.exit_code == 0, done.stderr
    assert account_row(cli)["status"] == "active"
    assert cli.login(MARIE).exit_code == 0


# --- ACC-5: password policy -----------------------------------------------------------

POLICY_CASES = [
    ("Ab1!xyzw", ["fewer than 12 characters"]),
    ("Aa1!" * 33, ["more than 128 characters"]),
    ("vr4i-mot2passe!", ["no uppercase letter"]),
    ("VR4I-MOT2PASSE!", ["no lowercase letter"]),
    ("Vrai-Mot-Passe!", ["no digit"]),
    ("Vr4iMot2Passe9", ["no special character"]),
    ("Soleil-Marie-42", ["contains your login, first name or last name"]),
    ("Lune-xCURIE-42!", ["contains your login, first name or last name"]),
    ("Azerty123456!", ["too common a password"]),
    (
        "abc",
        [
            "fewer than 12 characters",
            "no uppercase letter",
            "no digit",
            "no special character",
            "too common a password",
        ],
    ),
]


def test_acc5_each_broken_rule_is_named_in_one_error(cli, unchanged):
    cli.create()
    link = cli.last_link(MARIE)
    with unchanged():
        for password, named in POLICY_CASES:
            result = activate(cli, link, password, "--lang", "en")
            assert result.exit_code == 2, password
            (sentence,) = result.stderr.strip().splitlines()
            assert sentence == "Password refused (ACC-5): " + ", ".join(named) + "."
            assert password not in result.stderr
    assert activate(cli, link).exit_code == 0


def test_acc5_password_must_not_contain_the_login(cli, unchanged):
    assert cli.create("zorglub@example.fr", last="Dupont", first="Jean").exit_code == 0
    with unchanged():
        result = activate(cli, cli.last_link("zorglub@example.fr"), "Lac-ZORGLUB-42!")
    assert result.exit_code == 2
    assert "ACC-5" in result.stderr
    assert "contient votre identifiant, votre prénom ou votre nom" in result.stderr


def test_acc5_bare_token_is_accepted_as_well_as_the_whole_link(cli):
    cli.create()
    result = activate(cli, token_of(cli.last_link(MARIE)))
    assert result.exit_code == 0, result.stderr
    assert cli("account", "forgot-password", MARIE).exit_code == 0
    bare = token_of(cli.last_link(MARIE))
    result = cli("account", "reset-password", bare, "--password-stdin", input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.stderr
    assert cli.login(MARIE, NEW_PASSWORD).exit_code == 0


def test_acc5_a_token_never_starts_with_a_dash_so_it_is_never_read_as_an_option():
    # one token in 64 would start with "-" and `account activate TOKEN` would take it for
    # an unknown option; 3,000 draws miss a leading dash by chance with odds (63/64)**3000
    from chorus_cli.domain.secrets import new_token

    tokens = [new_token() for _ in range(3000)]
    assert not [t for t in tokens if t.startswith("-")]
    assert all(len(t) == 43 for t in tokens) and len(set(tokens)) == len(tokens)


def test_acc5_last_five_passwords_cannot_be_reused(cli, clock, unchanged):
    cli.active_account(password="Premier-Mdp-0!")
    for n in range(1, 5):  # four resets: the last five are Premier..Quatrieme
        clock.advance(minutes=5)  # ACC-7 allows 3 mails per 15 minutes
        assert reset(cli, MARIE, f"Suivant-Mdp-{n}!").exit_code == 0
    clock.advance(minutes=5)
    assert cli("account", "forgot-password", MARIE).exit_code == 0
    link = cli.last_link(MARIE)
    for old in ("Premier-Mdp-0!", "Suivant-Mdp-2!", "Suivant-Mdp-4!"):
        with unchanged():
            refused = cli("account", "reset-password", link, "--password-stdin", input=old + "\n")
        assert refused.exit_code == 2
        assert "ACC-5" in refused.stderr
        assert "identique à l'un de vos 5 derniers mots de passe" in refused.stderr
    ok = cli("account", "reset-password", link, "--password-stdin", input="Suivant-Mdp-5!\n")
    assert ok.exit_code == 0, ok.stderr
    # Premier is now the 6th-oldest: allowed again.
    clock.advance(minutes=5)
    again = reset(cli, MARIE, "Premier-Mdp-0!")
    assert again.exit_code == 0, again.stderr
    assert cli.login(MARIE, "Premier-Mdp-0!").exit_code == 0
    assert len(rows(cli, "password_history")) == 5


# --- ACC-6: forgotten password --------------------------------------------------------


def test_acc6_forgot_password_answers_the_same_for_unknown_accounts(cli):
    cli.active_account()
    known = cli("account", "forgot-password", MARIE)
    unknown = cli("account", "forgot-password", UNKNOWN)
    assert known.exit_code == unknown.exit_code == 0
    assert known.stdout == unknown.stdout == ""
    assert known.stderr.replace(MARIE, "<email>") == unknown.stderr.replace(UNKNOWN, "<email>")
    assert "60 minutes" in known.stderr
    assert cli.mails(UNKNOWN) == []
    (reset_mail,) = [m for m in cli.mails(MARIE) if "/reset-password?token=" in m["body"]]
    assert "60 minutes" in reset_mail["body"]


def test_acc6_reset_link_expires_after_60_minutes(cli, clock, unchanged):
    cli.active_account()
    cli("account", "forgot-password", MARIE)
    link = cli.last_link(MARIE)
    clock.advance(minutes=60)
    with unchanged():
        result = cli(
            "account", "reset-password", link, "--password-stdin", input=NEW_PASSWORD + "\n"
        )
    assert result.exit_code == 6
    assert "chorus account forgot-password" in result.stderr


def test_acc6_reset_link_activates_a_pending_account(cli):
    assert cli.create().exit_code == 0
    result = reset(cli, MARIE, PASSWORD)
    assert result.exit_code == 0, result.stderr
    row = account_row(cli)
    assert row["status"] == "active"
    assert row["activated_at"] is not None
    assert "Chorus Pro : votre compte est activé" in subjects(cli, MARIE)
    assert cli.login(MARIE).exit_code == 0


def test_acc6_reset_voids_the_outstanding_activation_link(cli, unchanged):
    assert cli.create().exit_code == 0
    activation = cli.last_link(MARIE)
    assert reset(cli, MARIE, PASSWORD).exit_code == 0
    with unchanged():
        stale = activate(cli, activation, NEW_PASSWORD)
    assert stale.exit_code == 6
    assert cli.login(MARIE, PASSWORD).exit_code == 0


def test_acc6_reset_ends_open_sessions_and_mails_a_notice(cli):
    cli.logged_in()
    assert cli("whoami").exit_code == 0
    result = reset(cli, MARIE, NEW_PASSWORD)
    assert result.exit_code == 0, result.stderr
    who = cli("whoami")
    assert who.exit_code == 5
    assert "AUTH-3" in who.stderr
    assert "Chorus Pro : votre mot de passe a été modifié" in subjects(cli, MARIE)
    assert cli.login(MARIE, PASSWORD).exit_code == 5
    assert cli.login(MARIE, NEW_PASSWORD).exit_code == 0


def test_acc6_reset_link_used_with_activate_still_ends_sessions(cli):
    cli.logged_in()
    assert cli("account", "forgot-password", MARIE).exit_code == 0
    result = activate(cli, cli.last_link(MARIE), NEW_PASSWORD)
    assert result.exit_code == 0, result.stderr
    assert cli("whoami").exit_code == 5
    assert "Chorus Pro : votre mot de passe a été modifié" in subjects(cli, MARIE)


# --- ACC-7: 3 mails per address per 15 minutes ----------------------------------------


def test_acc7_fourth_mail_request_within_15_minutes_is_refused(cli, clock, unchanged):
    assert cli.create().exit_code == 0  # creation mails too, counted apart (below)
    for _ in range(3):
        for email in (MARIE.upper(), UNKNOWN.upper()):  # the same address in any case
            assert cli("account", "forgot-password", email).exit_code == 0
        clock.advance(minutes=1)
    clock.advance(minutes=11, seconds=59)  # 14:59 after the first request
    refusals = []
    for email in (MARIE, UNKNOWN):
        with unchanged():
            refusals.append(cli("account", "forgot-password", email))
    known, unknown = refusals
    assert known.exit_code == unknown.exit_code == 1
    assert "ACC-7" in known.stderr
    assert known.stderr == unknown.stderr  # reveals nothing about which address exists
    assert len(known.stderr.strip().splitlines()) == 1
    assert len(cli.mails(MARIE)) == 4  # the activation mail and three reset links
    assert cli("account", "forgot-password", "autre@example.fr").exit_code == 0
    clock.advance(seconds=1)  # the first request leaves the window
    for email in (MARIE, UNKNOWN):
        allowed = cli("account", "forgot-password", email)
        assert allowed.exit_code == 0, allowed.stderr
    assert len(cli.mails(MARIE)) == 5
    assert cli.mails(UNKNOWN) == []


def test_acc7_a_recently_mailed_address_meets_the_same_reset_limit_as_any(cli, clock):
    """An account just created (mailed) gets as many reset requests as
    an address nobody has: the limit reveals no recent activity."""
    assert cli.create(MARIE).exit_code == 0
    answers = {}
    for email in (MARIE, UNKNOWN):
        answers[email] = [cli("account", "forgot-password", email).exit_code for _ in range(4)]
    assert answers[MARIE] == answers[UNKNOWN] == [0, 0, 0, 1]


def test_acc7_account_creation_is_rate_limited_per_address(cli, clock, unchanged):
    from sqlmodel import select

    from chorus_cli.store.models import ThrottleEvent
    from tests.test_structures import store_session

    with store_session(cli) as s:  # three creations of UNKNOWN in the window already
        for minutes in (3, 2, 1):
            s.add(ThrottleEvent(key=f"mail:{UNKNOWN}", at=clock.now() - timedelta(minutes=minutes)))
        s.commit()
        assert len(s.exec(select(ThrottleEvent)).all()) == 3
    with unchanged():
        refused = cli.create(UNKNOWN)
    assert refused.exit_code == 1
    assert "ACC-7" in refused.stderr
    clock.advance(minutes=15)
    assert cli.create(UNKNOWN).exit_code == 0


# --- ACC-8: hashes only, no secret in the audit log -----------------------------------


def test_acc8_password_is_stored_as_an_argon2id_hash(cli):
    cli.active_account()
    stored = account_row(cli)["password_hash"]
    assert stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, PASSWORD)
    assert where_found(cli, PASSWORD) == set()


PRODUCTION_COST = "$argon2id$v=19$m=19456,t=2,p=1$"  # ASVS 5's minimum for Argon2id


def test_acc8_passwords_are_hashed_at_the_asvs_minimum_cost(cli, production_argon2):
    """The cost chorus ships (the other tests hash cheaply, tests/conftest.py), and the
    dummy hash an unknown address is checked against costs the same as a real one."""
    from chorus_cli.domain import secrets

    assert secrets.ARGON2_PARAMETERS == {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}
    cli.active_account()
    assert account_row(cli)["password_hash"].startswith(PRODUCTION_COST)
    assert secrets.DUMMY_HASH.startswith(PRODUCTION_COST)
    assert not secrets.needs_rehash(secrets.DUMMY_HASH)


def test_acc8_a_hash_of_another_cost_still_verifies_and_a_login_rehashes_it(cli, production_argon2):
    """Argon2 writes its parameters into the hash: one made at another cost (an older
    setting, or these tests' cheap one) still lets its owner in, and is rehashed."""
    from tests.conftest import CHEAP_ARGON2

    cli.active_account()
    cheap = PasswordHasher(**CHEAP_ARGON2).hash(PASSWORD)
    with get_engine(cli.url).begin() as conn:
        conn.execute(text("UPDATE account SET password_hash = :h"), {"h": cheap})
    assert cli("login", MARIE, "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    assert account_row(cli)["password_hash"].startswith(PRODUCTION_COST)


def test_acc8_tokens_are_stored_only_as_sha256_hashes(cli):
    cli.create()
    token = token_of(cli.last_link(MARIE))
    assert where_found(cli, token) == {("mail", "body")}
    (link_row,) = rows(cli, "link_token")
    assert link_row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    activate(cli, token)
    cli("account", "forgot-password", MARIE)
    reset_token = token_of(cli.last_link(MARIE))
    assert where_found(cli, reset_token) == {("mail", "body")}
    assert hashlib.sha256(reset_token.encode()).hexdigest() in {
        r["token_hash"] for r in rows(cli, "link_token")
    }


def test_acc8_no_secret_in_audit_log_or_output(cli):
    outputs = []
    cli.create()
    activation = token_of(cli.last_link(MARIE))
    outputs.append(activate(cli, activation))
    outputs.append(cli("login", MARIE, "--password-stdin", input=PASSWORD + "\n"))
    code = cli.last_code(MARIE)
    outputs.append(cli("login", MARIE, "--code", code))
    outputs.append(
        cli("account", "password", "--password-stdin", input=f"{PASSWORD}\n{NEW_PASSWORD}\n")
    )
    outputs.append(cli("account", "forgot-password", MARIE))
    reset_token = token_of(cli.last_link(MARIE))
    outputs.append(
        cli("account", "reset-password", reset_token, "--password-stdin", input=THIRD + "\n")
    )
    assert all(o.exit_code == 0 for o in outputs), [o.stderr for o in outputs]
    audit = json.dumps([{k: str(v) for k, v in r.items()} for r in rows(cli, "audit_entry")])
    assert {"account.create", "account.activate", "login.success", "account.password"} <= {
        r["action"] for r in rows(cli, "audit_entry")
    }
    for secret in (PASSWORD, NEW_PASSWORD, THIRD, activation, reset_token, code):
        assert secret not in audit
        assert not any(secret in o.stdout + o.stderr for o in outputs)
    assert code not in str(rows(cli, "login_challenge"))


# --- MFA-1: change password -----------------------------------------------------------


def logged_in_with_contact(cli):
    create_with_contact(cli)
    assert activate(cli, cli.last_link(MARIE)).exit_code == 0
    assert cli.login(MARIE).exit_code == 0


def test_mfa1_change_password_mails_a_notice_to_the_contact_address(cli):
    logged_in_with_contact(cli)
    before = len(cli.mails(CONTACT))
    result = cli("account", "password", input=f"{PASSWORD}\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.stderr
    assert CONTACT in result.stderr
    mails = cli.mails(CONTACT)
    assert len(mails) == before + 1
    assert mails[0]["subject"] == "Chorus Pro : votre mot de passe a été modifié"
    assert NEW_PASSWORD not in mails[0]["body"]
    assert mails[0]["subject"] not in subjects(cli, MARIE)
    assert cli("whoami").exit_code == 0  # this session stays open
    assert cli.login(MARIE, PASSWORD).exit_code == 5
    assert cli.login(MARIE, NEW_PASSWORD).exit_code == 0


def test_mfa1_change_password_needs_the_correct_current_password(cli):
    cli.logged_in()
    before = snapshot(cli.url)
    hash_before = account_row(cli)["password_hash"]
    result = cli("account", "password", input=f"Faux-Mdp-123!\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 5
    assert "MFA-1" in result.stderr
    assert "Faux-Mdp-123!" not in result.stderr
    # A wrong current password counts toward the lockout (AUTH-2), and nothing else moves.
    after = snapshot(cli.url)
    assert {k: v for k, v in after.items() if k not in ("account", "audit_entry")} == {
        k: v for k, v in before.items() if k not in ("account", "audit_entry")
    }
    row = account_row(cli)
    assert row["password_hash"] == hash_before
    assert row["failed_logins"] == 1
    assert cli.login(MARIE, PASSWORD).exit_code == 0


def test_mfa1_new_password_is_typed_twice(cli, unchanged):
    cli.logged_in()
    with unchanged():
        result = cli("account", "password", input=f"{PASSWORD}\n{NEW_PASSWORD}\nAutre-Chose-9!\n")
    assert result.exit_code == 2
    assert "ACC-4" in result.stderr


def test_mfa1_acc5_applies_to_the_new_password(cli, unchanged):
    cli.logged_in()
    for new, named in (
        ("motdepasse", "aucune majuscule"),
        (PASSWORD, "identique à l'un de vos 5 derniers mots de passe"),
    ):
        with unchanged():
            result = cli("account", "password", "--password-stdin", input=f"{PASSWORD}\n{new}\n")
        assert result.exit_code == 2
        assert "ACC-5" in result.stderr
        assert named in result.stderr
    assert "Chorus Pro : votre mot de passe a été modifié" not in subjects(cli, MARIE)


def test_mfa1_password_change_voids_an_outstanding_reset_link(cli, unchanged):
    cli.logged_in()
    assert cli("account", "forgot-password", MARIE).exit_code == 0
    link = cli.last_link(MARIE)
    changed = cli("account", "password", "--password-stdin", input=f"{PASSWORD}\n{NEW_PASSWORD}\n")
    assert changed.exit_code == 0, changed.stderr
    with unchanged():
        stale = cli(
            "account", "reset-password", link, "--password-stdin", input="Encore-Autre-7!\n"
        )
    assert stale.exit_code == 6


# --- SET-1: «Mon compte» --------------------------------------------------------------


def test_set1_mon_compte_needs_a_session(cli, unchanged):
    cli.active_account()
    with unchanged():
        for args in (
            ("account", "show", "--json"),
            ("account", "update", "--biography", "Chimiste"),
            ("account", "password", "--password-stdin"),  # MFA-1
        ):
            result = cli(*args, input=f"{PASSWORD}\n{NEW_PASSWORD}\n")
            assert result.exit_code == 5, args
            assert "AUTH-3" in result.stderr
            assert result.stdout == ""


def test_set1_show_prints_my_account(cli):
    cli.logged_in()
    result = cli("account", "show", "--json")
    assert result.exit_code == 0, result.stderr
    shown = result.json()
    assert shown["login_email"] == shown["contact_email"] == MARIE
    assert [shown[k] for k in ("first_name", "last_name", "status")] == ["Marie", "Curie", "active"]
    assert "password_hash" not in shown
    assert PASSWORD not in result.stdout
    table = cli("account", "show")
    assert table.exit_code == 0
    assert MARIE in table.stdout


def test_set1_update_names_phone_workplace_address_and_biography(cli):
    cli.logged_in()
    result = cli(
        "account", "update", "--first-name", "Marie Salomea", "--last-name", "Sklodowska-Curie",
        "--phone", "06 12 34 56 78", "--workplace-address", "11 rue Pierre et Marie Curie, Paris",
        "--biography", "Physicienne", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    expected = {
        "first_name": "Marie Salomea",
        "last_name": "Sklodowska-Curie",
        "phone": "+33612345678",
        "workplace_address": "11 rue Pierre et Marie Curie, Paris",
        "biography": "Physicienne",
        "login_email": MARIE,
    }
    assert expected.items() <= result.json().items()
    assert expected.items() <= cli("account", "show", "--json").json().items()
    assert expected.items() <= account_row(cli).items()
    removed = cli("account", "update", "--phone", "", "--json")
    assert removed.exit_code == 0, removed.stderr
    assert removed.json()["phone"] is None
    assert removed.json()["biography"] == "Physicienne"


def test_set1_bad_phone_is_refused_and_nothing_changes(cli, unchanged):
    cli.logged_in()
    with unchanged():
        result = cli("account", "update", "--biography", "Chimiste", "--phone", "0123")
        empty = cli("account", "update")
        no_name = cli("account", "update", "--last-name", " ")
    assert result.exit_code == 2
    assert "ACC-1" in result.stderr
    assert empty.exit_code == 2
    assert no_name.exit_code == 2
    assert "ACC-1" in no_name.stderr
    assert account_row(cli)["biography"] is None


# --- language ---------------------------------------------------------------------------


def test_acc1_messages_in_english_with_lang_en(cli, unchanged):
    with unchanged():
        bad = cli("--lang", "en", "account", "create", "--email", "nope", "--last-name", "Curie",
                  "--first-name", "Marie")  # fmt: skip
    assert bad.exit_code == 2
    assert bad.stderr.startswith("Invalid e-mail address for login address (ACC-1)")
    created = cli("--lang", "en", "account", "create", "--email", MARIE, "--last-name", "Curie",
                  "--first-name", "Marie", "--json")  # fmt: skip
    assert created.exit_code == 0
    assert created.stderr.startswith(f"Account {MARIE} created, pending activation")
    assert set(created.json()) >= {"login_email", "contact_email", "first_name", "last_name",
                                   "phone", "status"}  # fmt: skip
    assert cli.mails(MARIE)[0]["subject"] == "Chorus Pro: activate your account"
    with unchanged():
        dup = cli("--lang", "en", "account", "create", "--email", MARIE, "--last-name", "Curie",
                  "--first-name", "Marie")  # fmt: skip
    assert dup.exit_code == 1
    assert dup.stderr.startswith(f"An account already exists for {MARIE} (ACC-2)")
    assert "forgot-password" in dup.stderr
    forgot = cli("--lang", "en", "account", "forgot-password", MARIE)
    assert forgot.stderr.startswith(f"If an account exists for {MARIE}")


def test_acc1_json_errors_keep_their_code_in_every_language(cli, unchanged):
    with unchanged():
        fr = cli("account", "create", "--email", "nope", "--last-name", "C", "--first-name", "M",
                 "--json")  # fmt: skip
        en = cli("--lang", "en", "account", "create", "--email", "nope", "--last-name", "C",
                 "--first-name", "M", "--format", "json")  # fmt: skip
    assert fr.exit_code == en.exit_code == 2
    assert fr.stdout == en.stdout == ""
    fr_error, en_error = json.loads(fr.stderr)["error"], json.loads(en.stderr)["error"]
    assert fr_error["code"] == en_error["code"] == 2
    assert "ACC-1" in fr_error["message"]
    assert "ACC-1" in en_error["message"]
    assert fr_error["message"] != en_error["message"]


def test_set1_messages_follow_the_account_language_preference(cli, unchanged):
    created = cli("--lang", "en", "account", "create", "--email", MARIE, "--last-name", "Curie",
                  "--first-name", "Marie")  # fmt: skip
    assert created.exit_code == 0
    assert activate(cli, cli.last_link(MARIE)).exit_code == 0
    assert cli.login(MARIE).exit_code == 0
    with unchanged():
        result = cli("account", "update", "--phone", "0123")
    assert result.exit_code == 2
    assert result.stderr.startswith("Invalid phone number (ACC-1)")


# ACC-1: chorus checks an address by its parts (the domain once, cached: a flow's
# addresses share a few domains); for any address the answer must be email_validator's.
TRICKY_ADDRESSES = [
    "Marie.Curie@Example.FR",
    "marie@exämple.fr",
    "MARIE@xn--exmple-cua.fr",
    '"a@b"@example.fr',
    '"quoted local"@example.fr',
    '""@example.fr',
    "a..b@example.fr",
    ".a@example.fr",
    "a.@example.fr",
    "a@localhost",
    "a@example.local",
    "a@example.test",
    "a@example.invalid",
    "A@EXAMPLE.ONION",
    "a@example",
    "a@[127.0.0.1]",
    "a@1.2.3.4",
    "Marie <marie@example.fr>",
    "marie@example.fr.",
    "x" * 64 + "@example.fr",
    "x" * 65 + "@example.fr",
    "a@" + ("b" * 63 + ".") * 3 + "fr",
    "a@" + ("b" * 60 + ".") * 4 + "fr",
    "x" * 60 + "@" + "y" * 190 + ".fr",
    "é@example.fr",
    "ａ@example.fr",
    "a@ｅxample.fr",
    "a b@example.fr",
    "a@b@example.fr",
    "@example.fr",
    "a@",
    "",
    "a@-example.fr",
    "a@example-.fr",
    "a@exam_ple.fr",
    "a@xn--.fr",
    "a\u200b@example.fr",
    "a@exa\u200bmple.fr",
    "user+tag@example.fr",
    "u@sub.domain.example.gouv.fr",
]


@pytest.mark.parametrize("address", TRICKY_ADDRESSES)
def test_acc1_an_address_checked_by_parts_gets_the_whole_checks_answer(address):
    from email_validator import EmailNotValidError, validate_email

    from chorus_cli.domain.accounts import _address

    def answer(check):  # type: ignore[no-untyped-def]
        try:
            return check()
        except EmailNotValidError as exc:
            return ("refused", str(exc))

    whole = answer(lambda: validate_email(address, check_deliverability=False).normalized)
    assert answer(lambda: _address(address)) == whole
