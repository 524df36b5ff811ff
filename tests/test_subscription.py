"""MEM-5, «Abonnement» (with ATT-2, ATT-3, HAB-2, SET-3, OPS-4 for it): a member asks
for a profile on a structure it is attached to; the structure's managers decide it like
an attachment request, and approval grants the profile. On SQLite and PostgreSQL.

The cast is test_attachments': Marie's bakery (RIDET, services ACHATS and RH), Marie
its primary manager; Pierre and Paul attached by request; Sam support.
"""

from __future__ import annotations

import pytest

from tests.test_attachments import (
    MARIE,
    PAUL,
    PIERRE,
    SAM,
    approved,
    audit,
    service_profiles,
)
from tests.test_attachments import bakery as bakery  # noqa: F401  (fixture)
from tests.test_attachments import world as world  # noqa: F401  (fixture)
from tests.test_structures import NAME, RIDET, mails_of
from tests.test_structures import habilitations as profiles_of

WHY = "Je suis les sollicitations des fournisseurs"


def subscribe(world, who, app="sollicitations", level="modification", *services, **kw):
    args = ["habil", "request", "--structure", kw.get("structure", RIDET)]
    args += ["--application", app, "--level", level, "--comment", kw.get("comment", WHY)]
    for code in services:
        args += ["--service", code]
    return world(who, *args, "--json")


@pytest.fixture
def members(bakery):
    """Pierre and Paul attached to the whole bakery; Pierre's «Sollicitations» lowered
    to consultation by Marie, so that a subscription has something to raise."""
    approved(bakery, PIERRE)
    approved(bakery, PAUL)
    lowered = bakery(
        MARIE, "habil", "grant", PIERRE, "--structure", RIDET, "--app", "sollicitations",
        "--level", "consultation",
    )  # fmt: skip
    assert lowered.exit_code == 0, lowered.stderr
    return bakery


def test_mem5_request_pending_approve_grants_the_profile_and_history_shows_it(members, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    result = subscribe(members, PIERRE)

    assert result.exit_code == 0, result.stderr
    made = result.json()
    assert (made["type"], made["status"], made["approver"]) == ("subscription", "pending", MARIE)
    assert (made["application"], made["level"]) == ("sollicitations", "modification")
    assert made["profile"] == "Sollicitations modification"
    assert f"n° {made['id']}" in result.stderr and MARIE in result.stderr
    (mail,) = mails_of(members.cli, MARIE, "demande d'abonnement attend")
    assert (
        PIERRE in mail["body"]
        and WHY in mail["body"]
        and "Sollicitations modification" in (mail["body"])
    )
    assert profiles_of(members.cli, PIERRE)["sollicitations"] == "consultation"  # not yet
    # ATT-2: the managers see what it asks, in JSON and in the table.
    (waiting,) = members(MARIE, "attach", "pending", "--json").json()
    assert (waiting["id"], waiting["requester"], waiting["profile"]) == (
        made["id"], PIERRE, "Sollicitations modification",
    )  # fmt: skip
    table = members(MARIE, "attach", "pending").stdout
    assert "Sollicitations modification" in table

    decided = members(MARIE, "attach", "approve", str(made["id"]), "--json")

    assert decided.exit_code == 0, decided.stderr
    (row,) = decided.json()
    assert (row["status"], row["decided_by"]) == ("approved", MARIE)
    assert profiles_of(members.cli, PIERRE)["sollicitations"] == "modification"
    listed = members(PIERRE, "habil", "list", "--profile", "sollicitations", "--json").json()
    assert [(r["structure"], r["service"], r["profile"]) for r in listed] == [
        (RIDET, None, "Sollicitations modification")
    ]
    (mail,) = mails_of(members.cli, PIERRE, "abonnement est approuvée")
    assert "Sollicitations modification" in mail["body"] and NAME in mail["body"]
    # ATT-3: the history shows its type, its approver and what it asked.
    history = members(PIERRE, "account", "history", "--json").json()
    assert (history[0]["type"], history[0]["status"], history[0]["approver"]) == (
        "subscription", "approved", MARIE,
    )  # fmt: skip
    assert history[0]["profile"] == "Sollicitations modification"
    table = members(PIERRE, "account", "history").stdout
    assert "subscription" in table and "Sollicitations modification" in table
    # OPS-4
    (asked,) = audit(members, "subscription.request")
    assert asked[:3] == (PIERRE, "subscription.request", RIDET)
    assert (asked[3]["application"], asked[3]["level"]) == ("sollicitations", "modification")
    (granted,) = audit(members, "subscription.approve")
    assert granted[:3] == (MARIE, "subscription.approve", PIERRE)
    assert (granted[3]["request"], granted[3]["application"]) == (made["id"], "sollicitations")


def test_mem5_approval_never_lowers_a_profile(members):
    """Asking for consultation of what one holds in modification changes nothing."""
    number = subscribe(members, PAUL, "engagements", "consultation").json()["id"]
    assert members(MARIE, "attach", "approve", str(number)).exit_code == 0
    assert profiles_of(members.cli, PAUL)["engagements"] == "modification"


def test_mem5_a_service_member_subscribes_on_its_services(bakery):
    approved(bakery, PIERRE, "ACHATS")
    refused = subscribe(bakery, PIERRE, "organisation", "modification")
    assert refused.exit_code == 1 and "MEM-5" in refused.stderr and "ACHATS" in refused.stderr
    number = subscribe(bakery, PIERRE, "organisation", "modification", "ACHATS").json()["id"]
    assert bakery(MARIE, "attach", "approve", str(number)).exit_code == 0
    assert service_profiles(bakery.cli, PIERRE)[("ACHATS", "organisation")] == "modification"


def test_mem5_reject_with_a_reason_mails_it_and_grants_nothing(members, unchanged):
    number = subscribe(members, PIERRE).json()["id"]
    with unchanged():
        assert members(MARIE, "attach", "reject", str(number), "--reason", " ").exit_code == 2

    result = members(MARIE, "attach", "reject", str(number), "--reason", "Pas utile", "--json")

    assert result.exit_code == 0, result.stderr
    (row,) = result.json()
    assert (row["status"], row["reason"], row["type"]) == ("refused", "Pas utile", "subscription")
    (mail,) = mails_of(members.cli, PIERRE, "abonnement est refusée")
    assert "Pas utile" in mail["body"] and "Sollicitations modification" in mail["body"]
    assert profiles_of(members.cli, PIERRE)["sollicitations"] == "consultation"
    (entry,) = audit(members, "subscription.reject")
    assert entry[:3] == (MARIE, "subscription.reject", PIERRE) and entry[3]["reason"] == "Pas utile"
    assert subscribe(members, PIERRE).exit_code == 0  # a refused one blocks no new one


def test_mem5_one_pending_request_per_account_structure_and_application(members, unchanged):
    first = subscribe(members, PIERRE).json()["id"]
    with unchanged():
        again = subscribe(members, PIERRE, "sollicitations", "consultation")
    assert again.exit_code == 1
    assert "MEM-5" in again.stderr and str(first) in again.stderr
    # Another application, or an attachment request to more services, is another request.
    assert subscribe(members, PIERRE, "engagements", "modification").exit_code == 0


def test_mem5_the_store_itself_keeps_one_pending_subscription_per_application(members):
    from sqlalchemy.exc import IntegrityError

    from chorus_cli.store.models import AttachmentRequest
    from tests.test_structures import store_session

    made = subscribe(members, PIERRE).json()
    with pytest.raises(IntegrityError), store_session(members.cli) as s:
        row = s.get(AttachmentRequest, made["id"])
        s.add(
            AttachmentRequest(
                account_id=row.account_id, structure_id=row.structure_id, type="subscription",
                comment="x", created_at=row.created_at, application="sollicitations",
                level="consultation",
            )
        )  # fmt: skip
        s.commit()


def test_mem5_not_attached_is_refused_naming_the_rule(bakery, unchanged):
    with unchanged():
        result = subscribe(bakery, PIERRE)
    assert result.exit_code == 1
    assert "MEM-5" in result.stderr and RIDET in result.stderr
    assert "chorus attach request" in result.stderr


@pytest.mark.parametrize(
    ("app", "level", "listed"),
    [
        ("facturation", "modification", "factures_emises"),
        ("engagements", "ecriture", "consultation"),
    ],
)
def test_mem5_unknown_application_or_level_is_exit_2_listing_the_valid_ones(
    members, unchanged, app, level, listed
):
    with unchanged():
        result = subscribe(members, PIERRE, app, level)
    assert result.exit_code == 2
    assert listed in result.stderr


@pytest.mark.parametrize("comment", ["", "  ", "abc\x1b[31m"])
def test_mem5_the_comment_is_checked_like_any_text(members, unchanged, comment):
    with unchanged():
        assert subscribe(members, PIERRE, comment=comment).exit_code == 2


def test_mem5_only_the_structures_managers_decide(members, unchanged):
    number = subscribe(members, PIERRE).json()["id"]
    for who in (PAUL, SAM):
        for verb, extra in (("approve", ()), ("reject", ("--reason", "Non"))):
            with unchanged():
                result = members(who, "attach", verb, str(number), *extra)
            assert result.exit_code == 4, (who, verb, result.stderr)
    with unchanged():
        assert members(PIERRE, "attach", "approve", str(number)).exit_code == 4  # one's own
    assert members(PAUL, "attach", "pending", "--json").exit_code in (0, 4)
    assert members(MARIE, "attach", "approve", str(number)).exit_code == 0


def test_mem5_a_request_of_a_member_detached_meanwhile_is_not_approved(members, unchanged):
    number = subscribe(members, PIERRE).json()["id"]
    assert members(PIERRE, "attach", "detach", "--structure", RIDET).exit_code == 0
    with unchanged():
        result = members(MARIE, "attach", "approve", str(number))
    assert result.exit_code == 1 and "MEM-5" in result.stderr
    assert members(MARIE, "attach", "reject", str(number), "--reason", "Parti").exit_code == 0


def test_mem5_the_weekly_summary_names_an_approved_subscription_as_such(members, cli):
    from tests.test_notifications import summaries, weekly

    assert members(MARIE, "account", "notifications", "--weekly").exit_code == 0
    number = subscribe(members, PIERRE).json()["id"]
    assert members(MARIE, "attach", "approve", str(number)).exit_code == 0
    assert weekly(cli)["mailed"] == 1
    (mail,) = summaries(cli, MARIE)
    assert (
        f"abonnement de {PIERRE} au profil « Sollicitations modification » approuvé par {MARIE}"
    ) in mail["body"]


def test_mem5_a_pending_attachment_request_and_a_pending_subscription_coexist(bakery):
    """ATT-1's one pending request per structure counts attachment requests only."""
    approved(bakery, PIERRE, "ACHATS")
    more = bakery(PIERRE, "attach", "request", "--structure", RIDET, "--service", "RH",
                  "--comment", "Aussi les RH", "--json")  # fmt: skip
    assert more.exit_code == 0, more.stderr
    asked = subscribe(bakery, PIERRE, "organisation", "modification", "ACHATS")
    assert asked.exit_code == 0, asked.stderr
    waiting = bakery(MARIE, "attach", "pending", "--json").json()
    assert sorted(r["type"] for r in waiting) == ["services", "subscription"]
