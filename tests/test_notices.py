"""SET-3: every action the guide lists (2.2.3) mails its notice to the account concerned,
at its contact address: activation, password change and reset, factor added and
removed, login-address change, attachment decision, habilitation change, deactivation
and reactivation, primary-manager transfer. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.conftest import NEW_PASSWORD, PASSWORD
from tests.test_attachments import (
    MARIE,
    PAUL,
    PIERRE,
    approved,
    baked,
    requested,
)
from tests.test_structures import RIDET

CONTACT = "marie.perso@example.fr"


def subjects(cli, to: str) -> list[str]:
    return [m["subject"] for m in cli.mails(to)]


@pytest.fixture
def marie(cli):
    """Marie, active and logged in, whose contact address is not her login."""
    assert cli.create(MARIE).exit_code == 0
    assert cli("account", "activate", cli.last_link(MARIE), "--password-stdin",
               input=PASSWORD + "\n").exit_code == 0  # fmt: skip
    assert cli.login(MARIE).exit_code == 0
    assert cli("account", "update", "--contact-email", CONTACT).exit_code == 0
    return MARIE


def test_set3_activation_mails_a_notice(cli):
    made = cli("account", "create", "--email", MARIE, "--last-name", "Curie", "--first-name",
               "Marie", "--contact-email", CONTACT)  # fmt: skip
    assert made.exit_code == 0
    done = cli("account", "activate", cli.last_link(MARIE), "--password-stdin",
               input=PASSWORD + "\n")  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert subjects(cli, CONTACT) == ["Chorus Pro : votre compte est activé"]


def test_set3_password_change_mails_a_notice(cli, marie):
    changed = cli("account", "password", "--password-stdin",
                  input=f"{PASSWORD}\n{NEW_PASSWORD}\n")  # fmt: skip
    assert changed.exit_code == 0, changed.stderr
    assert subjects(cli, CONTACT)[0] == "Chorus Pro : votre mot de passe a été modifié"


def test_set3_password_reset_mails_a_notice(cli, marie):
    assert cli("account", "forgot-password", MARIE).exit_code == 0
    reset = cli("account", "reset-password", cli.last_link(MARIE), "--password-stdin",
                input=NEW_PASSWORD + "\n")  # fmt: skip
    assert reset.exit_code == 0, reset.stderr
    assert subjects(cli, CONTACT)[0] == "Chorus Pro : votre mot de passe a été modifié"


def test_set3_factor_added_and_removed_mail_a_notice_each(cli, marie):
    from tests.test_mfa import enrol

    enrol(cli, "Pixel 8")
    assert subjects(cli, CONTACT)[0] == (
        "Chorus Pro : une application d'authentification a été ajoutée"
    )
    removed = cli("mfa", "totp", "remove", "--password-stdin", input=PASSWORD + "\n")
    assert removed.exit_code == 0, removed.stderr
    assert subjects(cli, CONTACT)[0] == (
        "Chorus Pro : une application d'authentification a été retirée"
    )


def test_set3_login_address_change_mails_a_notice(cli, marie):
    new = "marie@nouveau.fr"
    asked = cli("login-address", "change", new, input=f"{PASSWORD}\n{new}\n")
    assert asked.exit_code == 0, asked.stderr
    assert cli("login-address", "confirm", cli.last_link(new)).exit_code == 0
    # LA-1: to the old login address, which the owner is leaving.
    assert subjects(cli, MARIE)[0] == "Chorus Pro : votre adresse de connexion a été modifiée"


def test_set3_deactivation_and_reactivation_mail_a_notice_each(cli, marie):
    assert cli("account", "deactivate", "--yes").exit_code == 0
    assert subjects(cli, CONTACT)[0] == "Chorus Pro : votre compte est désactivé"
    assert cli("account", "reactivate", MARIE, "--password-stdin",
               input=PASSWORD + "\n").exit_code == 0  # fmt: skip
    done = cli("account", "reactivate", MARIE, "--code", cli.last_code(MARIE))
    assert done.exit_code == 0, done.stderr
    assert subjects(cli, CONTACT)[0] == "Chorus Pro : votre compte est réactivé"


@pytest.fixture
def bakery(cli, worlds):
    return baked(worlds, cli)


def test_set3_an_attachment_decision_mails_the_requester(cli, bakery):
    approved(bakery, PIERRE)
    assert subjects(cli, PIERRE)[0] == "Chorus Pro : votre demande de rattachement est approuvée"
    number = requested(bakery, PAUL)
    refused = bakery(MARIE, "attach", "reject", str(number), "--reason", "Inconnu")
    assert refused.exit_code == 0, refused.stderr
    assert subjects(cli, PAUL)[0] == "Chorus Pro : votre demande de rattachement est refusée"


def test_set3_a_habilitation_change_mails_the_account_concerned(cli, bakery):
    approved(bakery, PIERRE)
    granted = bakery(MARIE, "habil", "grant", PIERRE, "--structure", RIDET, "--app",
                     "organisation", "--level", "modification")  # fmt: skip
    assert granted.exit_code == 0, granted.stderr
    assert subjects(cli, PIERRE)[0] == "Chorus Pro : vos habilitations ont changé"
    revoked = bakery(MARIE, "habil", "revoke", PIERRE, "--structure", RIDET, "--app",
                     "engagements")  # fmt: skip
    assert revoked.exit_code == 0, revoked.stderr
    assert subjects(cli, PIERRE)[0] == "Chorus Pro : un profil vous a été retiré"


def test_set3_a_primary_manager_transfer_mails_both_managers(cli, bakery):
    approved(bakery, PAUL)
    moved = bakery(MARIE, "structure", "transfer-primary", RIDET, "--to", PAUL)
    assert moved.exit_code == 0, moved.stderr
    assert subjects(cli, PAUL)[0] == (
        "Chorus Pro : vous êtes gestionnaire principal d'une structure"
    )
    assert subjects(cli, MARIE)[0] == (
        "Chorus Pro : vous n'êtes plus gestionnaire principal d'une structure"
    )
