"""LA-1..4 and SEC-5: changing the address one logs in with («Changer mon adresse de
connexion», guide 2.6), and support's rescue of a user who lost their mailbox (1.7.4).
On SQLite and PostgreSQL, with the injected clock."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import col, select

from tests.conftest import PASSWORD
from tests.test_structures import World, account_id, grant_role, store_session

MARIE = "marie.curie@example.fr"
NEW = "marie.curie@nouveau.fr"
PAUL = "paul.durand@example.fr"
SAM = "sam.support@example.fr"


def change(cli, new: str = NEW, confirmation: str | None = None, password: str = PASSWORD, *extra):
    typed = f"{password}\n{new if confirmation is None else confirmation}\n"
    return cli("login-address", "change", new, *extra, input=typed)


def link_to(cli, to: str = NEW) -> str:
    return cli.last_link(to)


def sessions(cli, email: str) -> list[tuple[int, bool]]:
    from chorus_cli.store.models import AuthSession

    with store_session(cli) as s:
        rows = s.exec(
            select(AuthSession.id, AuthSession.revoked_at)
            .where(col(AuthSession.account_id) == account_id(cli, email))
            .order_by(col(AuthSession.id))
        ).all()
    return [(id_, revoked is None) for id_, revoked in rows]


@pytest.fixture
def marie(cli):
    return cli.logged_in(MARIE)


def test_la1_change_mails_a_24h_link_to_the_new_address_and_confirm_switches_the_login(cli, marie):
    asked = change(cli, NEW, None, PASSWORD, "--json")
    assert asked.exit_code == 0, asked.stderr
    assert f"a été envoyé à {NEW}" in asked.stderr
    pending = asked.json()
    assert (pending["login_email"], pending["new_email"], pending["status"]) == (
        MARIE,
        NEW,
        "pending",
    )
    mail = cli.mails(NEW)[0]
    assert mail["subject"] == "Chorus Pro : confirmez votre nouvelle adresse de connexion"
    assert "24 heures" in mail["body"] and MARIE in mail["body"]
    # Until confirmed, the old address is still the login.
    assert cli("whoami", "--json").json()["login_email"] == MARIE
    confirmed = cli("login-address", "confirm", link_to(cli))
    assert confirmed.exit_code == 0, confirmed.stderr
    assert f"Votre adresse de connexion est désormais {NEW}" in confirmed.stderr
    me = cli("whoami", "--json").json()
    assert me["login_email"] == NEW
    assert me["contact_email"] == NEW  # it was the login address, its default (ACC-1)
    notice = cli.mails(MARIE)[0]
    assert notice["subject"] == "Chorus Pro : votre adresse de connexion a été modifiée"
    assert MARIE in notice["body"] and NEW in notice["body"]
    cli("logout")
    assert cli.login(MARIE).exit_code == 5
    assert cli.login(NEW).exit_code == 0


def test_la1_a_separate_contact_address_stays_as_it_was(cli, marie):
    assert cli("account", "update", "--contact-email", "marie@perso.fr").exit_code == 0
    assert change(cli).exit_code == 0
    assert cli("login-address", "confirm", link_to(cli)).exit_code == 0
    me = cli("account", "show", "--json").json()
    assert (me["login_email"], me["contact_email"]) == (NEW, "marie@perso.fr")
    # LA-1: the notice goes to the old login address, not to the contact address.
    assert cli.mails(MARIE)[0]["subject"].endswith("adresse de connexion a été modifiée")


def test_la1_confirm_ends_the_other_sessions_and_keeps_this_one(cli, marie):
    from tests.memory_keyring import MemoryKeyring

    here = dict(MemoryKeyring.entries)
    assert cli.login(MARIE).exit_code == 0  # a second session, elsewhere
    MemoryKeyring.entries = here
    assert change(cli).exit_code == 0
    assert cli("login-address", "confirm", link_to(cli)).exit_code == 0
    assert [open_ for _, open_ in sessions(cli, NEW)] == [True, False]
    assert cli("whoami").exit_code == 0


def test_la1_confirm_from_no_session_ends_every_session(cli, marie):
    from tests.memory_keyring import MemoryKeyring

    assert change(cli).exit_code == 0
    MemoryKeyring.entries = {}
    result = cli("login-address", "confirm", link_to(cli), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == {"login_email": NEW, "status": "changed"}
    assert [open_ for _, open_ in sessions(cli, NEW)] == [False]


def test_la1_the_bare_token_works_as_well_as_the_whole_link(cli, marie):
    assert change(cli).exit_code == 0
    token = link_to(cli).split("token=", 1)[1]
    assert cli("login-address", "confirm", token).exit_code == 0
    assert cli("whoami", "--json").json()["login_email"] == NEW


@pytest.mark.parametrize(
    ("new", "confirmation", "needle"),
    [
        (NEW, "marie.curie@nouvau.fr", "Les deux saisies de la nouvelle adresse"),
        (MARIE, MARIE, "est déjà votre adresse de connexion (LA-1)"),
        ("MARIE.Curie@Example.fr", "marie.curie@example.fr", "déjà votre adresse"),
        ("marie@@nouveau", "marie@@nouveau", "nouvelle adresse de connexion"),
    ],
)
def test_la1_bad_addresses_are_refused_and_nothing_changes(
    cli, marie, unchanged, new, confirmation, needle
):
    with unchanged():
        result = change(cli, new, confirmation)
    assert result.exit_code == 2
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_la1_a_pipe_without_the_confirmation_line_is_refused(cli, marie, unchanged):
    with unchanged():
        result = cli("login-address", "change", NEW, input=PASSWORD + "\n")
    assert result.exit_code == 2
    assert "Confirmez la nouvelle adresse de connexion" in result.stderr


def test_sec5_the_password_is_asked_again_and_a_wrong_one_counts_toward_the_lockout(cli, marie):
    for _ in range(4):
        refused = change(cli, password="Pas-Le-Bon-1!")
        assert refused.exit_code == 5
        assert "SEC-5" in refused.stderr
    assert cli.mails(NEW) == []
    assert cli("login-address", "status", "--json").json()["status"] == "none"
    assert change(cli, password="Pas-Le-Bon-1!").exit_code == 5  # the fifth: locked
    cli("logout")
    assert cli.login(MARIE).exit_code == 5  # AUTH-2: the lockout holds


def test_la2_one_pending_change_at_a_time(cli, marie, unchanged):
    assert change(cli).exit_code == 0
    with unchanged():
        second = change(cli, "marie@autre.fr")
    assert second.exit_code == 1
    assert "LA-2" in second.stderr and NEW in second.stderr
    status = cli("login-address", "status", "--json")
    assert status.exit_code == 0
    shown = status.json()
    assert (shown["login_email"], shown["new_email"], shown["status"]) == (MARIE, NEW, "pending")
    from datetime import datetime

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    assert at(shown["expires_at"]) - at(shown["requested_at"]) == timedelta(hours=24)


def test_out3_a_pending_change_shows_the_fields_login_address_declares_in_their_order(
    cli, marie, unchanged
):
    """Out of test_output_shaping's walk, which meets no change under way (NOT_WALKED):
    `login-address change`'s answer and `status`'s of the change under way hold exactly
    the fields they declare, in that order, `confirm`'s two of them in that order; --fields
    keeps those named, in the order named, and an unknown one is refused before the
    password is asked, nothing saved (OUT-3)."""
    from chorus_cli.commands import login_address as commands
    from chorus_cli.commands._common import fields_declared

    declared = list(fields_declared(commands.change))
    assert (
        declared
        == list(fields_declared(commands.status))
        == list(fields_declared(commands.confirm))
    )
    with unchanged():
        refused = change(cli, NEW, None, PASSWORD, "--fields", "new_email,colour")
    assert refused.exit_code == 2 and "OUT-3" in refused.stderr, refused.stderr
    assert "enregistr" not in refused.stderr and refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1  # the refusal alone: no prompt
    asked = change(cli, NEW, None, PASSWORD, "--json")
    assert asked.exit_code == 0, asked.stderr
    assert list(asked.json()) == declared and asked.json()["status"] == "pending"
    shown = cli("login-address", "status", "--json").json()
    assert list(shown) == declared and shown == asked.json()
    kept = cli("login-address", "status", "--format", "jsonl", "--fields", "status,new_email")
    assert [json.loads(line) for line in kept.stdout.splitlines()] == [
        {"status": "pending", "new_email": NEW}
    ]
    assert list(json.loads(kept.stdout)) == ["status", "new_email"]
    done = cli("login-address", "confirm", link_to(cli), "--json")
    assert list(done.json()) == [f for f in declared if f in ("login_email", "status")]
    again = change(cli, "marie@autre.fr", None, PASSWORD, "--json", "--fields", "new_email")
    assert again.json() == {"new_email": "marie@autre.fr"}


def test_la2_cancel_drops_the_change_and_its_link(cli, marie):
    assert change(cli).exit_code == 0
    link = link_to(cli)
    cancelled = cli("login-address", "cancel")
    assert cancelled.exit_code == 0 and "annulé" in cancelled.stderr
    assert cli("login-address", "confirm", link).exit_code == 6
    assert cli("whoami", "--json").json()["login_email"] == MARIE
    assert change(cli, "marie@autre.fr").exit_code == 0  # a new change may start
    again = cli("login-address", "cancel")
    assert again.exit_code == 0
    nothing = cli("login-address", "cancel")
    assert nothing.exit_code == 0 and "Aucun changement" in nothing.stderr


def test_la2_the_link_lapses_at_exactly_24_hours(cli, marie, clock):
    assert change(cli).exit_code == 0
    link = link_to(cli)
    clock.advance(hours=24)
    lapsed = cli("login-address", "confirm", link)
    assert lapsed.exit_code == 6
    # LA-2's own sentence: 24 hours, and the remedy is a new change, not ACC-4's reset.
    assert "LA-2 : valable 24 heures" in lapsed.stderr
    assert "chorus login-address change" in lapsed.stderr
    assert "ACC-4" not in lapsed.stderr and "forgot-password" not in lapsed.stderr
    assert cli.login(MARIE).exit_code == 0
    assert cli("login-address", "status", "--json").json()["status"] == "none"
    assert change(cli).exit_code == 0  # lapsed: a new change may start


def test_la2_the_link_still_works_one_second_before_24_hours(cli, marie, clock):
    assert change(cli).exit_code == 0
    clock.advance(hours=24, seconds=-1)
    assert cli("login-address", "confirm", link_to(cli)).exit_code == 0


def test_la1_a_link_works_once(cli, marie):
    assert change(cli).exit_code == 0
    link = link_to(cli)
    assert cli("login-address", "confirm", link).exit_code == 0
    again = cli("login-address", "confirm", link)
    assert again.exit_code == 6
    assert "LA-1" in again.stderr and "chorus login-address change" in again.stderr
    assert "forgot-password" not in again.stderr


def test_la3_an_address_of_another_account_is_refused(cli, marie, unchanged):
    from tests.memory_keyring import MemoryKeyring

    here = dict(MemoryKeyring.entries)
    cli.active_account(PAUL)
    MemoryKeyring.entries = here
    with unchanged():
        refused = change(cli, PAUL.upper())
    assert refused.exit_code == 1
    assert "LA-3" in refused.stderr
    # The sentence names the address typed and nothing of the account behind it.
    assert "Durand" not in refused.stderr and "Paul" not in refused.stderr


def test_la3_an_address_taken_after_the_request_is_refused_at_confirmation(cli, marie, unchanged):
    from tests.memory_keyring import MemoryKeyring

    assert change(cli).exit_code == 0
    link = link_to(cli)
    here = dict(MemoryKeyring.entries)
    cli.active_account(NEW)
    MemoryKeyring.entries = here
    with unchanged():
        refused = cli("login-address", "confirm", link)
    assert refused.exit_code == 1 and "LA-3" in refused.stderr
    assert cli("whoami", "--json").json()["login_email"] == MARIE


@pytest.fixture
def support(cli):
    world = World(cli)
    world.join(MARIE)
    world.join(SAM)
    grant_role(cli, SAM, "support")
    return world


def test_la4_support_changes_the_login_of_a_user_who_lost_the_mailbox(cli, support):
    asked = support(
        SAM, "login-address", "change", NEW, "--account", MARIE, input=f"{PASSWORD}\n{NEW}\n"
    )
    assert asked.exit_code == 0, asked.stderr
    assert cli.mails(NEW)[0]["subject"].startswith("Chorus Pro : confirmez")
    status = support(SAM, "login-address", "status", "--account", MARIE, "--json").json()
    assert (status["login_email"], status["new_email"]) == (MARIE, NEW)
    assert support(MARIE, "login-address", "confirm", link_to(cli)).exit_code == 0
    audit = support(SAM, "audit", "list", "--action", "login_address.request", "--json").json()
    assert len(audit) == 1
    entry = audit[0]
    assert entry["actor"] == SAM and entry["target"] == MARIE
    assert entry["details"]["old"] == MARIE and entry["details"]["new"] == NEW
    assert cli.login(NEW).exit_code == 0


def test_la4_only_support_and_admins_change_another_account(cli, support, unchanged):
    with unchanged():
        refused = support(
            MARIE, "login-address", "change", NEW, "--account", SAM, input=f"{PASSWORD}\n{NEW}\n"
        )
    assert refused.exit_code == 4
    assert "support" in refused.stderr


ADA = "ada.admin@example.fr"


@pytest.mark.parametrize("role", ["admin", "support", "correspondent"])
def test_la4_support_may_not_take_over_a_platform_role_holders_login(cli, support, unchanged, role):
    # The take-over: support changes an admin's login to an address of their own, confirms
    # the link, asks a new password there and logs in as the admin (PUB-1). Refused.
    support.join(ADA)
    grant_role(cli, ADA, role, "38" if role == "correspondent" else None)
    with unchanged():
        refused = support(
            SAM, "login-address", "change", NEW, "--account", ADA, input=f"{PASSWORD}\n{NEW}\n"
        )
    assert refused.exit_code == 4, refused.stderr
    assert "LA-4" in refused.stderr and ADA in refused.stderr
    assert cli.mails(NEW) == []
    # Reading the change under way is still allowed; cancelling one is not.
    assert support(SAM, "login-address", "status", "--account", ADA).exit_code == 0
    with unchanged():
        assert support(SAM, "login-address", "cancel", "--account", ADA).exit_code == 4


def test_la4_an_admin_rescues_any_account(cli, support):
    support.join(ADA)
    grant_role(cli, ADA, "admin")
    asked = support(
        ADA, "login-address", "change", NEW, "--account", SAM, input=f"{PASSWORD}\n{NEW}\n"
    )
    assert asked.exit_code == 0, asked.stderr
    assert support(SAM, "login-address", "confirm", link_to(cli)).exit_code == 0
    assert cli.login(NEW).exit_code == 0


def test_la4_support_types_their_own_password(cli, support):
    refused = support(
        SAM, "login-address", "change", NEW, "--account", MARIE, input=f"Pas-Le-Bon-1!\n{NEW}\n"
    )
    assert refused.exit_code == 5 and "SEC-5" in refused.stderr
    assert cli.mails(NEW) == []
