"""ATT-1..5, HAB-3..5 as two people would live them: the real `chorus` executable in two
terminals, each with its own keyring (keyrings.alt's plaintext file under its own
XDG_DATA_HOME) and data dir, both on the same store. Marie manages a structure; Paul
asks to join it; they take turns, reading their mail from the shared outbox.
"""

from __future__ import annotations

import json

from tests.e2e.test_cli_contract import LINK, PASSWORD, Terminal, one_sentence

MARIE = "marie.curie@example.fr"
PAUL = "paul.langevin@example.fr"
RIDET = "1234567001"
NAME = "Boulangerie de Nouméa"


def data(result) -> object:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def newcomer(terminal: Terminal, email: str, first_name: str) -> None:
    """Create, activate (password piped) and log in, as the README shows."""
    created = terminal(
        "account", "create", "--email", email, "--last-name", "Curie", "--first-name", first_name
    )
    assert created.returncode == 0, created.stderr
    link = LINK.search(terminal.mails(email)[0]["body"]).group(0)
    activated = terminal("account", "activate", link, "--password-stdin", input=PASSWORD + "\n")
    assert activated.returncode == 0, activated.stderr
    terminal.login(email)


def test_att_hab_two_accounts_take_turns_in_two_terminals(tmp_path):
    store = tmp_path / "chorus.db"
    marie, paul = Terminal(store, tmp_path / "marie"), Terminal(store, tmp_path / "paul")
    newcomer(marie, MARIE, "Marie")
    newcomer(paul, PAUL, "Paul")
    # Two keyrings, two sessions: each terminal is its own person.
    assert (tmp_path / "marie" / "python_keyring").is_dir()
    assert (tmp_path / "paul" / "python_keyring").is_dir()
    assert data(marie("whoami", "--json"))["login_email"] == MARIE
    assert data(paul("whoami", "--json"))["login_email"] == PAUL

    # Marie creates the structure and a service (no SIRENE data needed for a RIDET).
    created = marie(
        "structure", "create", "--id-type", "RIDET", "--id", RIDET, "--raison-sociale", NAME
    )
    assert created.returncode == 0, created.stderr
    added = marie("structure", "service", "add", RIDET, "--code", "ACHATS", "--label", "Achats")
    assert added.returncode == 0, added.stderr

    # Paul asks by name, without the accent; the comment is mandatory.
    missing = paul("attach", "request", "--structure", "boulangerie de noumea")
    assert missing.returncode == 2 and "--comment" in missing.stderr
    asked = data(
        paul(
            "attach", "request", "--structure", "boulangerie de noumea",
            "--comment", "Je tiens la caisse depuis mars", "--json",
        )
    )  # fmt: skip
    number = asked["id"]
    assert (asked["structure"], asked["status"], asked["approver"]) == (RIDET, "pending", MARIE)
    own = paul("attach", "approve", str(number))
    assert own.returncode == 4 and "HAB-6" in one_sentence(own.stderr)

    # Marie's turn: the mail says what to run; she lists, then approves.
    (notice,) = [m for m in marie.mails(MARIE) if "attend votre décision" in m["subject"]]
    assert f"chorus attach approve {number}" in notice["body"]
    assert "Je tiens la caisse depuis mars" in notice["body"]
    waiting = data(marie("attach", "pending", "--json"))
    assert [(r["id"], r["requester"]) for r in waiting] == [(number, PAUL)]
    table = marie("attach", "pending")
    assert table.returncode == 0 and PAUL in table.stdout
    approved = marie("attach", "approve", str(number))
    assert approved.returncode == 0, approved.stderr

    # Paul's turn: the decision in his mail, his default profiles, his history.
    assert "approuvée" in paul.mails(PAUL)[0]["subject"]
    profiles = data(paul("habil", "list", "--json"))
    assert {p["application"]: p["level"] for p in profiles}["organisation"] == "consultation"
    assert {p["level"] for p in profiles if p["application"] != "organisation"} == {"modification"}
    history = paul("account", "history", "--format", "csv")
    assert history.returncode == 0
    header, row = history.stdout.splitlines()
    assert header.startswith("id,type,structure,services,status,comment,approver")
    assert f"{number},structure,{RIDET},,approved," in row and MARIE in row
    mine = data(paul("whoami", "--json"))["structures"]
    assert [(s["identifier"], s["role"]) for s in mine] == [(RIDET, "member")]
    refused = paul("structure", "update", RIDET, "--label", "Siège")
    assert refused.returncode == 4

    # Marie makes Paul a manager too; Paul is mailed, and may now edit the structure.
    granted = marie(
        "habil", "grant", PAUL, "--structure", RIDET, "--app", "organisation",
        "--level", "modification",
    )  # fmt: skip
    assert granted.returncode == 0, granted.stderr
    assert "habilitations ont changé" in paul.mails(PAUL)[0]["subject"]
    assert paul("structure", "update", RIDET, "--label", "Siège").returncode == 0

    # Marie, primary manager, cannot leave; Paul can, and is then attached to nothing.
    stuck = marie("attach", "detach", "--structure", RIDET)
    assert stuck.returncode == 1 and "transfer-primary" in one_sentence(stuck.stderr)
    left = paul("attach", "detach", "--structure", RIDET)
    assert left.returncode == 0, left.stderr
    assert data(paul("attach", "list", "--json")) == []
    assert data(paul("habil", "list", "--json")) == []
