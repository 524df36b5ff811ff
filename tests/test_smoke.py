from tests.conftest import PASSWORD


def test_acc3_create_activate_login_flow(cli):
    cli.logged_in()
    who = cli("whoami", "--json")
    assert who.exit_code == 0, who.stderr
    assert who.json()["login_email"] == "marie.curie@example.fr"
    assert PASSWORD not in who.stdout
