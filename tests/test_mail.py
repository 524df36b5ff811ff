"""The outbox and its SMTP delivery (SPEC: mail, trust boundary, language).

SMTP tests talk to a real aiosmtpd server on 127.0.0.1.
"""

from __future__ import annotations

import csv
import io
import re
from contextlib import contextmanager
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import PASSWORD
from tests.memory_keyring import MemoryKeyring
from tests.pg import free_port

MARIE = "marie.curie@example.fr"
PAUL = "paul.martin@example.fr"
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

# SPEC's fields, then SEC-8's.
FIELDS = ["id", "to", "sender", "subject", "body", "created_at", "status",
          "attempts", "last_error", "message_id", "next_attempt_at"]  # fmt: skip
SENDER = "ne-pas-repondre@chorus-pro.gouv.fr"
LINK = re.compile(r"https://\S+\?token=\S+")
CODE = re.compile(r"\b\d{6}\b")
SMTP_USER = "chorus"
SMTP_PASSWORD = "smtp-S3cret!"


class Inbox:
    """What the SMTP server received: envelopes, and their parsed messages."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


@contextmanager
def smtp_server(port: int | None = None, password: str | None = None, **options):
    """A real SMTP server; with ``password``, AUTH is required (after STARTTLS when
    ``tls_context`` is given)."""
    inbox = Inbox()
    if "tls_context" in options:
        options["require_starttls"] = True
    if password is not None:

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login == SMTP_USER.encode()
                and auth_data.password == password.encode()
            )
            return AuthResult(success=ok, handled=False)  # False: aiosmtpd answers 535

        options.update(authenticator=authenticator, auth_required=True)
    controller = Controller(inbox, hostname="127.0.0.1", port=port or free_port(), **options)
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_keyring(monkeypatch):
    """The test keyring, where an older chorus read the SMTP password (service chorus-smtp)."""
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", MemoryKeyring())
    return MemoryKeyring.entries


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


# --- mail list -------------------------------------------------------------------------


def test_mail_list_json_fields_newest_first_without_session(cli, clock):
    assert cli.create(MARIE).exit_code == 0
    clock.advance(minutes=1)
    assert cli.create(PAUL, last="Martin", first="Paul").exit_code == 0

    result = cli("mail", "list", "--json")  # nobody is logged in: it is the local mailbox

    assert result.exit_code == 0, result.stderr
    mails = result.json()
    assert [list(m) for m in mails] == [FIELDS, FIELDS]
    assert [m["to"] for m in mails] == [PAUL, MARIE]
    assert mails[0]["id"] > mails[1]["id"]
    assert mails[0]["created_at"] > mails[1]["created_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", mails[0]["created_at"])
    assert {m["status"] for m in mails} == {"pending"}
    assert {m["sender"] for m in mails} == {SENDER}
    assert LINK.search(mails[1]["body"])
    assert result.stderr == ""


def test_mail_list_to_is_case_insensitive(cli):
    cli.create(MARIE)
    cli.create(PAUL, last="Martin", first="Paul")

    mails = cli.mails("  Marie.CURIE@Example.FR ")

    assert [m["to"] for m in mails] == [MARIE]
    assert cli.mails("nobody@example.fr") == []


def test_mail_list_csv_has_the_json_fields_and_the_table_hides_bodies(cli):
    cli.create(MARIE)

    as_csv = cli("mail", "list", "--format", "csv")
    table = cli("mail", "list")

    assert as_csv.exit_code == 0 and table.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert list(rows[0]) == FIELDS
    assert rows[0]["to"] == MARIE and LINK.search(rows[0]["body"])
    assert "pending" in table.stdout and "token=" not in table.stdout


def test_mail_send_pending_without_smtp_url_says_so(cli):
    cli.create(MARIE)

    result = cli("mail", "send-pending")

    assert result.exit_code == 0
    assert "CHORUS_SMTP_URL" in result.stderr
    assert cli.mails(MARIE)[0]["status"] == "pending"


# --- SMTP delivery ---------------------------------------------------------------------


def test_smtp_delivers_each_mail_then_blanks_its_link(cli):
    with smtp_server() as (port, inbox):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        created = cli.create(MARIE)

        assert created.exit_code == 0, created.stderr
        assert created.stderr.count("\n") == 1  # the confirmation, no SMTP warning
        [envelope] = inbox.envelopes
        assert envelope.mail_from == SENDER
        assert envelope.rcpt_tos == [MARIE]
        [message] = inbox.messages()
        assert message["From"] == SENDER
        assert message["To"] == MARIE
        assert message["Subject"] == "Chorus Pro : activez votre compte"
        assert message["Date"] and message["Message-ID"]
        body = body_of(message)
        assert "Votre compte Chorus Pro (marie.curie@example.fr) a été créé" in body
        link = LINK.search(body).group(0)

        [stored] = cli.mails(MARIE)
        assert stored["status"] == "sent"
        assert "token=" not in stored["body"] and link not in stored["body"]
        assert "[masqué après envoi]" in stored["body"]

        # The delivered link is the real one: it activates the account.
        activated = cli("account", "activate", link, "--password-stdin", input=PASSWORD + "\n")
        assert activated.exit_code == 0, activated.stderr
        notice = inbox.messages()[-1]
        assert notice["Subject"] == "Chorus Pro : votre compte est activé"


def test_smtp_delivered_login_code_is_blanked_in_the_store(cli):
    cli.active_account(MARIE)
    with smtp_server() as (port, inbox):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        # Delivers the two pending mails (activation link, activation notice) first.
        first = cli("login", MARIE, "--password-stdin", input=PASSWORD + "\n")
        assert first.exit_code == 0, first.stderr
        code = CODE.search(body_of(inbox.messages()[-1])).group(0)

        stored = cli.mails(MARIE)
        assert {m["status"] for m in stored} == {"sent"}
        assert not CODE.search(stored[0]["body"]) and "token=" not in stored[1]["body"]

        done = cli("login", MARIE, "--code", code)
        assert done.exit_code == 0, done.stderr
        assert cli("whoami", "--json").json()["login_email"] == MARIE


def test_smtp_server_down_fails_softly_then_send_pending_delivers(cli, clock):
    port = free_port()  # nothing listens there yet
    cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"

    created = cli.create(MARIE)

    assert created.exit_code == 0  # the account exists: delivery failing is only a warning
    assert "réessayé" in created.stderr  # SEC-8: it will be tried again, by itself
    [stored] = cli.mails(MARIE)
    assert stored["status"] == "pending" and stored["attempts"] == 1
    assert LINK.search(stored["body"])  # not delivered: the link is still readable here

    clock.advance(minutes=1)  # SEC-8: the first retry is due a minute later
    with smtp_server(port=port) as (_, inbox):
        sent = cli("mail", "send-pending")

        assert sent.exit_code == 0, sent.stderr
        assert "1 e-mail envoyé, 0 en échec" in sent.stderr
        assert [m["To"] for m in inbox.messages()] == [MARIE]
    [stored] = cli.mails(MARIE)
    assert stored["status"] == "sent" and "token=" not in stored["body"]


def test_send_pending_with_server_down_tries_once_and_exits_1(cli):
    cli.create(MARIE)  # no SMTP configured yet: pending
    cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"

    result = cli("mail", "send-pending")

    assert result.exit_code == 1
    said = result.stderr.strip().splitlines()
    assert said[0] == "0 e-mail envoyé, 1 en échec."
    assert "ConnectionRefusedError" in said[1] and "réessayé" in said[1]
    assert cli.mails(MARIE)[0]["status"] == "pending"


def test_sec8_auth_reads_the_password_an_older_chorus_kept_in_the_keyring(
    cli, smtp_keyring, tmp_path
):
    """Before `chorus mail password`, the README said `keyring set chorus-smtp user@host`."""
    import ssl

    import trustme

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    smtp_keyring[("chorus-smtp", f"{SMTP_USER}@127.0.0.1")] = SMTP_PASSWORD
    with smtp_server(password=SMTP_PASSWORD, tls_context=context) as (port, inbox):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://{SMTP_USER}@127.0.0.1:{port}?starttls=1"
        cli.env["CHORUS_SMTP_CA_FILE"] = str(tmp_path / "ca.pem")

        created = cli.create(MARIE)

        assert created.exit_code == 0, created.stderr
        assert [m["To"] for m in inbox.messages()] == [MARIE]
    listed = cli("mail", "list", "--json")
    assert listed.json()[0]["status"] == "sent"
    assert SMTP_PASSWORD not in created.stdout + created.stderr + listed.stdout


@pytest.mark.parametrize("stored_password", ["wrong-password", None], ids=["wrong", "missing"])
def test_sec8_auth_with_a_wrong_or_missing_password_leaves_the_mail_pending(
    cli, clock, smtp_keyring, stored_password, tmp_path
):
    import ssl

    import trustme

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with smtp_server(password=SMTP_PASSWORD, tls_context=context) as (port, inbox):
        url = f"smtp://{SMTP_USER}@127.0.0.1:{port}?starttls=1"
        cli.env.update(CHORUS_SMTP_URL=url, CHORUS_SMTP_CA_FILE=str(tmp_path / "ca.pem"))
        if stored_password:
            cli("mail", "password", "--password-stdin", input=stored_password + "\n")

        created = cli.create(MARIE)

        assert created.exit_code == 0
        assert "réessayé" in created.stderr
        assert inbox.envelopes == []
        [mail] = cli.mails(MARIE)
        assert mail["status"] == "pending"
        assert ("535" if stored_password else "chorus mail password") in mail["last_error"]

        cli("mail", "password", "--password-stdin", input=SMTP_PASSWORD + "\n")
        assert cli("mail", "retry", str(mail["id"])).exit_code == 0
        assert [m["To"] for m in inbox.messages()] == [MARIE]


# --- language ----------------------------------------------------------------------------


def test_set5_mail_is_in_french_by_default(cli):
    cli.create(MARIE)

    [mail] = cli.mails(MARIE)

    assert mail["subject"] == "Chorus Pro : activez votre compte"
    assert mail["body"].startswith("Bonjour Marie Curie,")
    assert "dans les 60 minutes" in mail["body"]


def test_set5_account_created_with_lang_en_gets_english_mails(cli):
    created = cli(
        "--lang",
        "en",
        "account",
        "create",
        "--email",
        PAUL,
        "--last-name",
        "Martin",
        "--first-name",
        "Paul",
    )
    assert created.exit_code == 0, created.stderr

    [mail] = cli.mails(PAUL)
    assert mail["subject"] == "Chorus Pro: activate your account"
    assert mail["body"].startswith("Hello Paul Martin,")
    assert "within 60 minutes" in mail["body"]

    # Later mails follow the account's language, whatever the command's language.
    activated = cli(
        "account", "activate", cli.last_link(PAUL), "--password-stdin", input=PASSWORD + "\n"
    )
    assert activated.exit_code == 0, activated.stderr
    assert cli.mails(PAUL)[0]["subject"] == "Chorus Pro: your account is active"


def test_sec12_a_bad_smtp_url_is_bad_input_before_anything_is_saved(cli, unchanged):
    cli.env["CHORUS_SMTP_URL"] = "http://not-smtp"
    with unchanged():
        created = cli.create("marie.curie@example.fr")
    assert created.exit_code == 2
    assert "CHORUS_SMTP_URL" in created.stderr
    assert cli("mail", "list").exit_code == 0  # a command that sends nothing is unaffected
    assert cli("mail", "send-pending").exit_code == 2
