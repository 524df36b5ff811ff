"""OPS-4: every change records actor, action, target, time and non-secret details;
`chorus audit list` filters by actor, target, action and time."""

from __future__ import annotations

import json
import re
from datetime import timedelta, timezone

from chorus_cli.domain.secrets import token_hash
from chorus_cli.kernel.clock import iso
from tests.conftest import NEW_PASSWORD, PASSWORD

MARIE = "marie.curie@example.fr"
PAUL = "paul.martin@example.fr"
ADMIN = "ada.admin@example.fr"
FIELDS = ["id", "at", "actor", "action", "target", "details"]


def audit(cli, *filters: str) -> list[dict]:
    """The whole log as the store holds it (viewer None), with `audit list`'s filters."""
    from chorus_cli.config import Settings
    from chorus_cli.domain.audit import entries, view
    from chorus_cli.store.uow import UnitOfWork

    options = {
        name.lstrip("-"): value for name, value in zip(filters[::2], filters[1::2], strict=True)
    }
    if "limit" in options:
        options["limit"] = int(options["limit"])
    with UnitOfWork(Settings(database_url=cli.url), cli.clock) as uow:
        return [view(e) for e in entries(uow, None, **options)]


def audit_cli(cli, *filters: str) -> list[dict]:
    result = cli("audit", "list", "--json", *filters)
    assert result.exit_code == 0, result.stderr
    return result.json()


def actions(rows: list[dict]) -> list[str]:
    return [r["action"] for r in rows]


def test_ops4_each_change_writes_one_audit_row(cli, clock):
    assert cli.create(MARIE).exit_code == 0
    [created] = audit(cli)
    assert list(created) == FIELDS
    assert created == {
        "id": created["id"],
        "at": iso(clock.now()),
        "actor": "anonymous",  # the public sign-up form
        "action": "account.create",
        "target": MARIE,
        "details": {"phone": False, "to_complete": False},  # OPS-4, PUB-2
    }

    clock.advance(minutes=2)
    activated = cli(
        "account", "activate", cli.last_link(MARIE), "--password-stdin", input=PASSWORD + "\n"
    )
    assert activated.exit_code == 0, activated.stderr
    assert cli.login(MARIE).exit_code == 0

    rows = audit(cli)
    assert actions(rows) == [
        "login.success",
        "login.challenge",
        "account.activate",
        "account.create",
    ]  # newest first
    assert {r["actor"] for r in rows[:3]} == {MARIE}
    assert rows[0]["at"] == iso(clock.now())
    assert rows[0]["details"] == {"method": "email"}


def test_ops4_local_tools_are_recorded_as_system(cli):
    result = cli(
        "admin", "bootstrap", "--email", ADMIN, "--last-name", "Admin", "--first-name", "Ada"
    )
    assert result.exit_code == 0, result.stderr

    rows = audit(cli)

    assert [(r["actor"], r["action"], r["target"]) for r in rows] == [
        ("system", "role.grant", ADMIN),
        ("system", "account.create", ADMIN),
    ]
    assert rows[0]["details"] == {"role": "admin"}


def test_ops4_admin_action_is_recorded_with_the_admin_as_actor(cli):
    cli("admin", "bootstrap", "--email", ADMIN, "--last-name", "Admin", "--first-name", "Ada")
    cli("account", "activate", cli.last_link(ADMIN), "--password-stdin", input=PASSWORD + "\n")
    assert cli.login(ADMIN).exit_code == 0
    cli.create(PAUL, last="Martin", first="Paul")

    granted = cli("admin", "grant-role", PAUL, "correspondent", "--department", "75")

    assert granted.exit_code == 0, granted.stderr
    [row] = audit(cli, "--action", "role", "--target", PAUL)
    assert (row["actor"], row["details"]) == (ADMIN, {"role": "correspondent", "department": "75"})


def test_ops4_refused_command_writes_no_audit_row(cli, unchanged):
    cli.create(MARIE)

    with unchanged():
        duplicate = cli.create(MARIE)
    assert duplicate.exit_code == 1

    # Activation consumes the link, then the password is refused: all of it rolls back,
    # the audit row with it, and the link still works.
    with unchanged():
        weak = cli("account", "activate", cli.last_link(MARIE), "--password-stdin", input="court\n")
    assert weak.exit_code == 2
    assert actions(audit(cli)) == ["account.create"]
    ok = cli("account", "activate", cli.last_link(MARIE), "--password-stdin", input=PASSWORD + "\n")
    assert ok.exit_code == 0, ok.stderr
    assert actions(audit(cli)) == ["account.activate", "account.create"]


def test_ops4_audit_list_filters_by_actor_target_action_and_since(cli, clock):
    cli.create(MARIE)
    cli("account", "activate", cli.last_link(MARIE), "--password-stdin", input=PASSWORD + "\n")
    cli.login(MARIE)
    clock.advance(hours=1)
    middle = clock.now() - timedelta(minutes=30)
    cli.create(PAUL, last="Martin", first="Paul")

    assert actions(audit(cli, "--actor", "anonymous")) == ["account.create"] * 2
    by_marie = audit(cli, "--actor", "MARIE.Curie@example.fr")  # case-insensitive
    assert actions(by_marie) == ["login.success", "login.challenge", "account.activate"]
    assert [r["target"] for r in audit(cli, "--target", PAUL)] == [PAUL]
    assert actions(audit(cli, "--target", MARIE, "--action", "login")) == [
        "login.success",
        "login.challenge",
    ]

    # --action is the action or a prefix of dotted parts; LIKE wildcards are literal.
    assert actions(audit(cli, "--action", "account")) == [
        "account.create",
        "account.activate",
        "account.create",
    ]
    assert actions(audit(cli, "--action", "ACCOUNT.create")) == ["account.create"] * 2
    assert audit(cli, "--action", "acc") == []
    assert audit(cli, "--action", "%") == []
    assert audit(cli, "--action", "_ccount") == []

    # --since, in any offset: only Paul's creation is later than the middle.
    paris = middle.astimezone(timezone(timedelta(hours=2))).isoformat()
    assert [r["target"] for r in audit(cli, "--since", paris)] == [PAUL]
    utc_naive = middle.replace(tzinfo=None).isoformat(timespec="minutes")
    assert [r["target"] for r in audit(cli, "--since", utc_naive)] == [PAUL]
    assert len(audit(cli, "--since", clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"))) == 1
    assert audit(cli, "--since", (clock.now() + timedelta(seconds=1)).isoformat()) == []

    assert actions(audit(cli, "--actor", "anonymous", "--since", paris)) == ["account.create"]
    assert len(audit(cli, "--limit", "2")) == 2


def test_ops4_bad_since_is_exit_2(cli):
    cli.logged_in(MARIE)

    text = cli("audit", "list", "--since", "hier")
    as_json = cli("audit", "list", "--since", "2026-13-45", "--json")

    assert text.exit_code == 2
    assert text.stdout == ""
    assert text.stderr.count("\n") == 1 and "--since" in text.stderr and "hier" in text.stderr
    assert as_json.exit_code == 2 and as_json.stdout == ""
    assert json.loads(as_json.stderr)["error"]["code"] == 2


def test_ops4_audit_list_csv_and_table(cli):
    cli.logged_in(MARIE)
    cli.env["COLUMNS"] = "200"  # a wide terminal: no cell is wrapped

    as_csv = cli("audit", "list", "--format", "csv")
    table = cli("audit", "list")

    assert as_csv.stdout.splitlines()[0] == ",".join(FIELDS)
    assert "account.create" in as_csv.stdout
    assert table.exit_code == 0 and "account.create" in table.stdout


def test_ops4_no_secret_in_audit_details(cli):
    cli.logged_in(MARIE)
    cli("login", MARIE, "--password-stdin", input="Faux-Mot2Passe!\n")  # a failure
    cli("account", "forgot-password", MARIE)
    reset = cli(
        "account",
        "reset-password",
        cli.last_link(MARIE),
        "--password-stdin",
        input=NEW_PASSWORD + "\n",
    )
    assert reset.exit_code == 0, reset.stderr
    cli("account", "forgot-password", MARIE)  # an outstanding, unused link

    bodies = " ".join(m["body"] for m in cli.mails(MARIE))
    tokens = re.findall(r"token=(\S+)", bodies)
    codes = re.findall(r"\b\d{6}\b", bodies)
    assert len(tokens) == 3 and codes
    secrets = [PASSWORD, NEW_PASSWORD, "Faux-Mot2Passe!", *tokens, *codes]
    secrets += [token_hash(t) for t in tokens]

    rows = audit(cli)
    logged = cli("audit", "list", "--format", "csv").stdout + json.dumps(rows)

    assert {
        "account.create",
        "account.activate",
        "login.failure",
        "login.success",
        "account.forgot_password",
        "account.reset_password",
    } <= set(actions(rows))
    for secret in secrets:
        assert secret not in logged
    assert "$argon2" not in logged


def test_ops4_audit_list_needs_a_session(cli):
    cli.create(MARIE)
    result = cli("audit", "list")
    assert result.exit_code == 5
    assert "AUTH-3" in result.stderr


def test_ops4_an_account_reads_its_own_activity_only(cli):
    cli.create(PAUL, last="Martin", first="Paul")
    cli.logged_in(MARIE)
    rows = audit_cli(cli)
    assert rows and all(MARIE in (r["actor"], r["target"]) for r in rows)
    assert audit_cli(cli, "--target", PAUL) == []


def test_ops4_support_reads_the_whole_log_with_filters(cli):
    cli("admin", "bootstrap", "--email", ADMIN, "--last-name", "Admin", "--first-name", "Ada")
    cli("account", "activate", cli.last_link(ADMIN), "--password-stdin", input=PASSWORD + "\n")
    cli.create(PAUL, last="Martin", first="Paul")
    assert cli.login(ADMIN).exit_code == 0
    rows = audit_cli(cli, "--target", PAUL, "--action", "account")
    assert [(r["actor"], r["action"]) for r in rows] == [("anonymous", "account.create")]
    assert audit_cli(cli, "--limit", "1")[0]["action"] == "login.success"
