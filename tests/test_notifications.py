"""SET-2: notification choices per application and the weekly summary of the movements
on one's structures (`chorus notify weekly`), on SQLite and PostgreSQL, with the
injected clock. The cast is test_attachments': Marie manages the bakery (RIDET, services
ACHATS and RH), Pierre and Paul ask to join, Sam is support."""

from __future__ import annotations

import pytest

from tests.test_attachments import MARIE, PAUL, PIERRE, approved, baked
from tests.test_structures import RIDET

WEEKLY_SUBJECT = "Chorus Pro : récapitulatif hebdomadaire de vos structures"


@pytest.fixture
def world(cli, worlds):
    return baked(worlds, cli)


def summaries(cli, to: str) -> list[dict]:
    return [m for m in cli.mails(to) if m["subject"] == WEEKLY_SUBJECT]


def weekly(cli, *extra: str):
    result = cli("notify", "weekly", "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return result.json()


def relogin(world, who: str) -> None:
    """A fresh session after the clock moved past AUTH-3's timeouts."""
    from tests.memory_keyring import MemoryKeyring

    MemoryKeyring.entries = {}
    assert world.cli.login(who).exit_code == 0
    world.sessions[who] = dict(MemoryKeyring.entries)


def subscribe(world, who: str):
    done = world(who, "account", "notifications", "--weekly")
    assert done.exit_code == 0, done.stderr


def test_set2_notifications_list_the_applications_with_the_accounts_choice(world):
    shown = world(MARIE, "account", "notifications", "--json")
    assert shown.exit_code == 0, shown.stderr
    data = shown.json()
    assert data["weekly_summary"] is False
    names = {a["name"]: a["notify"] for a in data["applications"]}
    assert names["Facturation CPRO"] is False and len(names) >= 2
    table = world(MARIE, "account", "notifications")
    assert "facturation_cpro" in table.stdout and "weekly_summary" in table.stdout


def test_set2_on_off_and_weekly_round_trip_with_names_matched_loosely(world):
    on = world(MARIE, "account", "notifications", "--on", "facturation cpro", "--on",
               "Sollicitations", "--weekly", "--json")  # fmt: skip
    assert on.exit_code == 0, on.stderr
    chosen = {a["application"]: a["notify"] for a in on.json()["applications"]}
    assert chosen["facturation_cpro"] and chosen["sollicitations"]
    assert not chosen["engagements"]
    assert on.json()["weekly_summary"] is True
    off = world(MARIE, "account", "notifications", "--off", "FACTURATION-CPRO", "--no-weekly",
                "--json")  # fmt: skip
    chosen = {a["application"]: a["notify"] for a in off.json()["applications"]}
    assert not chosen["facturation_cpro"] and chosen["sollicitations"]
    assert off.json()["weekly_summary"] is False
    # Only Marie's choices changed.
    pierre = world(PIERRE, "account", "notifications", "--json").json()
    assert not any(a["notify"] for a in pierre["applications"])


@pytest.mark.parametrize(
    "args",
    [
        ("--on", "Facturation CPRO", "--on", "Chorus Fax"),
        ("--off", "nothing"),
        ("--on", "sollicitations", "--off", "Sollicitations"),
    ],
)
def test_set2_an_unknown_or_contradictory_name_is_refused_and_nothing_changes(
    world, unchanged, args
):
    with unchanged():
        refused = world(MARIE, "account", "notifications", *args, "--weekly")
    assert refused.exit_code == 2
    assert "SET-2" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_set2_the_unknown_name_sentence_lists_the_valid_ones(world):
    refused = world(MARIE, "account", "notifications", "--on", "Chorus Fax")
    assert "Facturation CPRO" in refused.stderr and "Chorus Fax" in refused.stderr


def test_set2_weekly_mails_a_subscriber_the_movements_on_their_structures(world, cli):
    subscribe(world, MARIE)
    approved(world, PIERRE, "ACHATS")
    added = world(MARIE, "structure", "service", "add", RIDET, "--code", "COMPTA",
                  "--label", "Comptabilité")  # fmt: skip
    assert added.exit_code == 0, added.stderr
    sent = weekly(cli)
    assert sent["mailed"] == 1 and sent["dry_run"] is False
    (summary,) = sent["summaries"]
    assert summary["login_email"] == MARIE
    assert summary["structures"][0]["identifier"] == RIDET
    (mail,) = summaries(cli, MARIE)
    assert f"({RIDET})" in mail["body"]
    assert f"rattachement de {PIERRE} approuvé par {MARIE}" in mail["body"]
    assert f"service COMPTA ajouté par {MARIE}" in mail["body"]
    # Pierre, attached but not subscribed, and Paul, not attached, get nothing.
    assert summaries(cli, PIERRE) == [] and summaries(cli, PAUL) == []


def test_set2_only_the_subscribers_own_structures_are_summarised(world, cli):
    subscribe(world, PAUL)  # Paul belongs to no structure: nothing for him
    subscribe(world, MARIE)
    approved(world, PIERRE)
    sent = weekly(cli)
    assert [s["login_email"] for s in sent["summaries"]] == [MARIE]
    assert summaries(cli, PAUL) == []


def test_set2_nothing_twice_a_second_run_sends_nothing_new(world, cli, clock):
    subscribe(world, MARIE)
    approved(world, PIERRE)
    assert weekly(cli)["mailed"] == 1
    clock.advance(days=1)
    again = weekly(cli)
    assert again["mailed"] == 0 and again["summaries"] == []
    assert len(summaries(cli, MARIE)) == 1
    # A new movement: the next run mails only that one.
    clock.advance(hours=1)
    relogin(world, MARIE)
    assert world(MARIE, "structure", "service", "deactivate", RIDET, "RH").exit_code == 0
    third = weekly(cli)
    assert third["mailed"] == 1
    latest = summaries(cli, MARIE)[0]["body"]
    assert f"service RH désactivé par {MARIE}" in latest
    assert "approuvé" not in latest


def test_set2_the_summary_covers_the_7_days_before_the_run(world, cli, clock):
    subscribe(world, MARIE)
    approved(world, PIERRE)  # at T
    clock.advance(days=7)  # exactly 7 days later: out of (now - 7 days, now]
    sent = weekly(cli)
    assert sent["mailed"] == 0


def test_set2_a_movement_one_second_inside_the_window_is_summarised(world, cli, clock):
    subscribe(world, MARIE)
    approved(world, PIERRE)
    clock.advance(days=7, seconds=-1)
    assert weekly(cli)["mailed"] == 1


def test_set2_dry_run_shows_who_would_get_what_and_changes_nothing(world, cli, unchanged):
    subscribe(world, MARIE)
    approved(world, PIERRE, "ACHATS")
    with unchanged():
        shown = weekly(cli, "--dry-run")
    assert shown["dry_run"] is True and shown["mailed"] == 0
    # The bakery's two services added when it opened, and Pierre's attachment.
    assert shown["summaries"][0]["structures"][0]["movements"] == 3
    assert summaries(cli, MARIE) == []
    assert weekly(cli)["mailed"] == 1  # the dry run left the period unmailed


def test_set2_a_deactivated_subscriber_gets_nothing(world, cli):
    subscribe(world, PIERRE)
    approved(world, PIERRE)
    assert world(PIERRE, "account", "deactivate", "--yes").exit_code == 0
    assert weekly(cli)["mailed"] == 0


def test_set2_weekly_needs_no_session_and_is_audited_as_system(world, cli):
    from tests.memory_keyring import MemoryKeyring

    subscribe(world, MARIE)
    approved(world, PIERRE)
    MemoryKeyring.entries = {}
    assert weekly(cli)["mailed"] == 1
    from sqlmodel import col, select

    from chorus_cli.store.models import AuditEntry
    from tests.test_structures import store_session

    with store_session(cli) as s:
        rows = s.exec(select(AuditEntry).where(col(AuditEntry.action) == "notify.weekly")).all()
    assert [(r.actor, r.details["mailed"]) for r in rows] == [("system", 1)]


def test_set2_the_summary_is_in_the_subscribers_language(world, cli):
    subscribe(world, MARIE)
    assert world(MARIE, "account", "preferences", "--language", "en").exit_code == 0
    approved(world, PIERRE)
    assert weekly(cli)["mailed"] == 1
    mail = cli.mails(MARIE)[0]
    assert mail["subject"] == "Chorus Pro: weekly summary of your structures"
    assert f"attachment of {PIERRE} approved by {MARIE}" in mail["body"]


def test_set2_habilitations_transfers_and_detachments_are_in_the_summary(world, cli):
    subscribe(world, MARIE)
    approved(world, PIERRE, "ACHATS")
    approved(world, PAUL)
    granted = world(MARIE, "habil", "grant", PAUL, "--structure", RIDET, "--app",
                    "organisation", "--level", "modification")  # fmt: skip
    assert granted.exit_code == 0, granted.stderr
    assert world(MARIE, "structure", "transfer-primary", RIDET, "--to", PAUL).exit_code == 0
    left = world(PIERRE, "attach", "detach", "--structure", RIDET)
    assert left.exit_code == 0, left.stderr
    assert weekly(cli)["mailed"] == 1
    body = summaries(cli, MARIE)[0]["body"]
    assert f"habilitation « Organisation modification » donnée à {PAUL} par {MARIE}" in body
    assert f"gestionnaire principal transféré à {PAUL} par {MARIE}" in body
    assert f"{PIERRE} s'est détaché de la structure" in body
    # Oldest first: the attachments, then the grant, the transfer, the detachment.
    assert body.index("donnée à") < body.index("transféré") < body.index("s'est détaché")


def test_set2_pub3_a_public_entitys_summary_comes_from_the_dgfip_sender(world, cli):
    from sqlalchemy import text

    from tests.test_structures import store_session

    subscribe(world, MARIE)
    subscribe(world, PIERRE)
    approved(world, PIERRE)
    granted = world(MARIE, "habil", "grant", PIERRE, "--structure", RIDET, "--app",
                    "organisation", "--level", "modification")  # fmt: skip
    assert granted.exit_code == 0, granted.stderr  # a manager: the summary is for him (MEM-1)
    with store_session(cli) as s:  # the bakery turned public entity, as a flow would
        s.exec(text("UPDATE structure SET public = :yes WHERE identifier = :id"),
               params={"yes": True, "id": RIDET})  # fmt: skip
        s.commit()
    assert weekly(cli)["mailed"] == 2
    for who in (MARIE, PIERRE):
        (mail,) = summaries(cli, who)
        assert mail["sender"] == "noreply@dgfip.finances.gouv.fr"


def test_set2_a_private_structures_summary_comes_from_the_portal(world, cli):
    subscribe(world, MARIE)
    approved(world, PIERRE)
    assert weekly(cli)["mailed"] == 1
    assert summaries(cli, MARIE)[0]["sender"] == "ne-pas-repondre@chorus-pro.gouv.fr"


def test_set2_csv_keeps_its_header_when_nobody_is_mailed(world, cli):
    empty = cli("notify", "weekly", "--format", "csv")
    assert empty.exit_code == 0
    assert empty.stdout.splitlines() == ["to,structure,movements"]
    choices = world(MARIE, "account", "notifications", "--format", "csv")
    assert choices.stdout.splitlines()[0] == "application,name,notify"
    assert choices.stdout.splitlines()[-1].startswith("weekly_summary,")
