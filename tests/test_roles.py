"""PUB-1: platform roles admin, support, correspondent (scoped to departments)."""

import pytest

from tests.conftest import PASSWORD

ADMIN = "ada.admin@example.fr"
PAUL = "paul.martin@example.fr"


@pytest.fixture
def admin(cli):
    cli("admin", "bootstrap", "--email", ADMIN, "--last-name", "Admin", "--first-name", "Ada")
    cli("account", "activate", cli.last_link(ADMIN), "--password-stdin", input=PASSWORD + "\n")
    cli.active_account(PAUL)
    assert cli.login(ADMIN).exit_code == 0
    return cli


@pytest.mark.parametrize(
    "args",
    [
        ["correspondent"],  # a correspondent needs a department
        ["correspondent", "--department", "99"],  # no such department
        ["correspondent", "--department", "20"],  # Corsica is 2A and 2B
        ["support", "--department", "75"],  # only correspondents have one
    ],
)
def test_pub1_correspondent_is_scoped_to_a_valid_department(admin, unchanged, args):
    with unchanged():
        result = admin("admin", "grant-role", PAUL, *args)
    assert result.exit_code == 2
    assert "PUB-1" in result.stderr


def test_pub1_admin_grants_a_correspondent_role_with_its_department(admin):
    for department in ("75", "2a", "974"):
        granted = admin("admin", "grant-role", PAUL, "correspondent", "--department", department)
        assert granted.exit_code == 0, granted.stderr
    assert "rôle « correspondent » vous a été attribué" in admin.mails(PAUL)[0]["body"]
    assert admin.login(PAUL).exit_code == 0
    roles = admin("whoami", "--json").json()["roles"]
    assert roles == ["correspondent:2A", "correspondent:75", "correspondent:974"]


def test_pub1_only_an_admin_grants_roles(admin, unchanged):
    assert admin.login(PAUL).exit_code == 0
    with unchanged():
        refused = admin("admin", "grant-role", PAUL, "admin")
    assert refused.exit_code == 4
    assert "HAB-6" in refused.stderr


def test_pub1_bootstrap_works_once(admin, unchanged):
    with unchanged():
        again = admin(
            "admin", "bootstrap", "--email", PAUL, "--last-name", "M", "--first-name", "P"
        )
    assert again.exit_code == 1
