"""SET-4: deactivating one's own account and reactivating it with the password and a
second factor (guide 2.2.4); AUTH-4 (a deactivated account cannot log in); STR-8 (a
primary manager transfers the role first). On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.test_structures import RIDET, World, grant_role

MARIE = "marie.curie@example.fr"
PAUL = "paul.durand@example.fr"
WRONG = "Pas-Le-Bon-1!"


@pytest.fixture
def marie(cli):
    return cli.logged_in(MARIE)


def status_of(cli, email: str) -> str:
    from sqlmodel import col, select

    from chorus_cli.store.models import Account
    from tests.test_structures import store_session

    with store_session(cli) as s:
        return s.exec(select(Account.status).where(col(Account.login_email) == email)).one()


def reactivate(cli, email: str = MARIE, password: str = PASSWORD, *extra: str):
    return cli("account", "reactivate", email, "--password-stdin", *extra, input=password + "\n")


def test_set4_deactivate_ends_the_sessions_mails_a_notice_and_login_is_refused(cli, marie):
    result = cli("account", "deactivate", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "Compte marie.curie@example.fr désactivé" in result.stderr
    assert status_of(cli, MARIE) == "deactivated"
    notice = cli.mails(MARIE)[0]
    assert notice["subject"] == "Chorus Pro : votre compte est désactivé"
    assert cli("whoami").exit_code == 5  # the session here ended with the account
    refused = cli("login", MARIE, "--password-stdin", input=PASSWORD + "\n")
    assert refused.exit_code == 5  # AUTH-4, and the same answer as a wrong password
    assert "AUTH-2" in refused.stderr


def test_set4_deactivate_from_a_pipe_without_yes_does_nothing(cli, marie, unchanged):
    with unchanged():
        refused = cli("account", "deactivate", input="o\n")
    assert refused.exit_code == 2
    assert "--yes" in refused.stderr and "SET-4" in refused.stderr
    assert cli("whoami").exit_code == 0


def test_set4_a_primary_manager_transfers_the_role_first(cli, unchanged):
    world = World(cli)
    world.join(MARIE)
    assert world.create(MARIE).exit_code == 0  # Marie becomes its primary manager
    with unchanged():
        refused = world(MARIE, "account", "deactivate", "--yes")
    assert refused.exit_code == 1
    assert "STR-8" in refused.stderr and RIDET in refused.stderr
    assert status_of(cli, MARIE) == "active"


def test_set4_the_last_active_admin_is_kept(cli, unchanged):
    from tests.test_structures import World

    world = World(cli)
    world.join(MARIE)
    grant_role(cli, MARIE, "admin")
    with unchanged():
        refused = world(MARIE, "account", "deactivate", "--yes")
    assert refused.exit_code == 1 and "SET-4" in refused.stderr
    world.join(PAUL)
    grant_role(cli, PAUL, "admin")
    assert world(MARIE, "account", "deactivate", "--yes").exit_code == 0


def test_set4_reactivate_asks_the_password_and_a_second_factor_then_logs_in(cli, marie):
    assert cli("account", "deactivate", "--yes").exit_code == 0
    started = reactivate(cli)
    assert started.exit_code == 0, started.stderr
    assert status_of(cli, MARIE) == "deactivated"  # not before the second factor
    code = cli.last_code(MARIE)
    done = cli("account", "reactivate", MARIE, "--code", code, "--json")
    assert done.exit_code == 0, done.stderr
    assert "Compte marie.curie@example.fr réactivé" in done.stderr
    assert done.json()["status"] == "logged_in"
    assert status_of(cli, MARIE) == "active"
    assert cli("whoami").exit_code == 0
    assert cli.mails(MARIE)[0]["subject"] == "Chorus Pro : votre compte est réactivé"
    assert audited(cli, "account.reactivate") == [(MARIE, MARIE)]


def audited(cli, action: str) -> list[tuple[str, str]]:
    from sqlmodel import col, select

    from chorus_cli.store.models import AuditEntry
    from tests.test_structures import store_session

    with store_session(cli) as s:
        rows = s.exec(select(AuditEntry).where(col(AuditEntry.action) == action)).all()
        return [(r.actor, r.target) for r in rows]


def test_set4_reactivate_counts_wrong_codes_toward_the_lockout(cli, marie):
    assert cli("account", "deactivate", "--yes").exit_code == 0
    assert reactivate(cli).exit_code == 0  # the code is mailed; it is typed wrong 5 times
    for left in (4, 3, 2, 1, 0):
        wrong = cli("account", "reactivate", MARIE, "--code", "000000")
        assert wrong.exit_code == 5, wrong.stderr
        assert (
            f"{left} essai{'s' if left > 1 else ''} restant{'s' if left > 1 else ''}"
            in wrong.stderr
        )
    # Locked (AUTH-2): the right password and a fresh right code are refused too.
    locked = reactivate(cli)
    assert locked.exit_code == 5
    assert status_of(cli, MARIE) == "deactivated"


def test_set4_reactivate_with_a_wrong_password_is_one_answer(cli, marie):
    assert cli("account", "deactivate", "--yes").exit_code == 0
    wrong = reactivate(cli, MARIE, WRONG)
    unknown = reactivate(cli, "nobody@example.fr", WRONG)
    assert wrong.exit_code == unknown.exit_code == 5
    assert wrong.stderr == unknown.stderr
    assert cli.mails(MARIE)[0]["subject"] == "Chorus Pro : votre compte est désactivé"


def test_set4_reactivate_of_an_account_that_is_not_deactivated_is_refused(cli, marie, unchanged):
    mails = len(cli.mails(MARIE))
    with unchanged():
        refused = reactivate(cli)
    assert refused.exit_code == 1
    assert "n'est pas désactivé (SET-4)" in refused.stderr
    assert len(cli.mails(MARIE)) == mails  # no code mailed, nothing written


def test_set4_a_login_code_asked_before_deactivation_no_longer_works(cli, marie):
    assert cli("login", MARIE, "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    code = cli.last_code(MARIE)
    assert cli("account", "deactivate", "--yes").exit_code == 0
    late = cli("login", MARIE, "--code", code)
    assert late.exit_code in (5, 6)
    assert status_of(cli, MARIE) == "deactivated"
    assert cli("whoami").exit_code == 5


def test_set4_a_reactivation_attempt_cannot_be_finished_as_a_plain_login_of_another(cli, marie):
    # A login attempt of an active account is not a reactivation: `account reactivate
    # --code` does not finish it.
    assert cli("logout").exit_code == 0
    assert cli("login", MARIE, "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    code = cli.last_code(MARIE)
    refused = cli("account", "reactivate", MARIE, "--code", code)
    assert refused.exit_code == 6
    assert cli("login", MARIE, "--code", code).exit_code == 0
