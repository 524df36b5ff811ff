"""SEC-8 (mail transport) and the SMTP parts of SEC-12: verified TLS, no password in
clear, strict URLs, no store lock across the network, the delivery policy (stable
Message-ID, permanent refusals, back-off, no delivery by commands that queued no mail),
`mail retry|discard|password`.

Every server is a real aiosmtpd server on 127.0.0.1, with TLS and AUTH where they are
tested; certificates come from a CA made by trustme in the test.
"""

from __future__ import annotations

import asyncio
import json
import select
import socket
import stat
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.pg import free_port
from tests.test_mail import MARIE, PAUL, SMTP_PASSWORD, SMTP_USER, Inbox, body_of

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
HEADLESS = "keyring.backends.fail.Keyring"


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def ca_file(ca, tmp_path):
    path = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(ca, *names: str):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or ("127.0.0.1",))).configure_cert(context)
    return context


def _authenticator(password: str):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == SMTP_USER.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def server(handler=None, *, tls=None, context=None, password=None, **options):
    """A real SMTP server on 127.0.0.1: ``tls`` "smtps" (TLS from the first byte) or
    "starttls" (required before anything else); with ``password``, AUTH is required."""
    handler = handler or Inbox()
    if tls == "smtps":
        options["ssl_context"] = context
    elif tls == "starttls":
        options.update(tls_context=context, require_starttls=True)
    if password is not None:
        options.update(
            authenticator=_authenticator(password),
            auth_required=True,
            auth_require_tls=tls == "starttls",
        )
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield controller.port, handler
    finally:
        controller.stop()


def mail_of(cli, to=MARIE) -> dict:
    return cli.mails(to)[0]


def store_password(cli, url: str, password: str = SMTP_PASSWORD):
    done = cli("mail", "password", "--url", url, "--password-stdin", input=password + "\n")
    assert done.exit_code == 0, done.stderr
    return done


# --- TLS is verified (SEC-8) --------------------------------------------------------------


@pytest.mark.parametrize("tls", ["starttls", "smtps"])
def test_sec8_an_untrusted_certificate_leaves_the_mail_pending_with_the_reason(cli, ca, tls):
    with server(tls=tls, context=server_context(ca)) as (port, inbox):
        scheme = "smtps" if tls == "smtps" else "smtp"
        query = "?starttls=1" if tls == "starttls" else ""
        cli.env["CHORUS_SMTP_URL"] = f"{scheme}://127.0.0.1:{port}{query}"

        created = cli.create(MARIE)

        assert created.exit_code == 0, created.stderr  # the account is made; the mail waits
        assert inbox.envelopes == []  # never sent
    mail = mail_of(cli)
    assert mail["status"] == "pending" and mail["attempts"] == 1
    assert "certificate" in mail["last_error"]
    assert "certificate" in created.stderr and "réessayé" in created.stderr


@pytest.mark.parametrize("tls", ["starttls", "smtps"])
def test_sec8_a_certificate_trusted_through_chorus_smtp_ca_file_delivers(cli, ca, ca_file, tls):
    with server(tls=tls, context=server_context(ca)) as (port, inbox):
        scheme = "smtps" if tls == "smtps" else "smtp"
        query = "?starttls=1" if tls == "starttls" else ""
        cli.env["CHORUS_SMTP_URL"] = f"{scheme}://127.0.0.1:{port}{query}"
        cli.env["CHORUS_SMTP_CA_FILE"] = ca_file

        created = cli.create(MARIE)

        assert created.exit_code == 0, created.stderr
        assert [m["To"] for m in inbox.messages()] == [MARIE]
    mail = mail_of(cli)
    assert mail["status"] == "sent" and mail["attempts"] == 1 and mail["last_error"] is None


def test_sec8_a_certificate_for_another_host_name_leaves_the_mail_pending(cli, ca, ca_file):
    context = server_context(ca, "smtp.example.org")  # trusted CA, another name
    with server(tls="starttls", context=context) as (port, inbox):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}?starttls=1"
        cli.env["CHORUS_SMTP_CA_FILE"] = ca_file

        created = cli.create(MARIE)

        assert created.exit_code == 0, created.stderr
        assert inbox.envelopes == []
    mail = mail_of(cli)
    assert mail["status"] == "pending"
    assert "mismatch" in mail["last_error"] or "match" in mail["last_error"]


def test_sec8_starttls_with_auth_uses_the_password_of_chorus_mail_password(cli, ca, ca_file):
    with server(tls="starttls", context=server_context(ca), password=SMTP_PASSWORD) as (
        port,
        inbox,
    ):
        url = f"smtp://{SMTP_USER}@127.0.0.1:{port}?starttls=1"
        stored = store_password(cli, url)
        cli.env.update(CHORUS_SMTP_URL=url, CHORUS_SMTP_CA_FILE=ca_file)

        created = cli.create(MARIE)

        assert created.exit_code == 0, created.stderr
        [message] = inbox.messages()
        assert message["To"] == MARIE and "a été créé" in body_of(message)
    listed = cli("mail", "list", "--json")
    assert listed.json()[0]["status"] == "sent"
    said = stored.stdout + stored.stderr + created.stdout + created.stderr + listed.stdout
    assert SMTP_PASSWORD not in said


# --- never a password in clear; URLs read strictly (SEC-8, SEC-12) ------------------------


@contextmanager
def listening():
    """A TCP port that listens and never answers: did anyone connect?"""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)

        def connected() -> bool:
            return bool(select.select([sock], [], [], 0)[0])

        yield sock.getsockname()[1], connected


def test_sec8_a_user_without_tls_is_refused_before_connecting(cli, unchanged):
    assert cli.create(MARIE).exit_code == 0  # no SMTP yet: pending
    with listening() as (port, connected):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://{SMTP_USER}@127.0.0.1:{port}"
        with unchanged():
            sent = cli("mail", "send-pending")
            created = cli.create(PAUL, last="Martin", first="Paul")

        assert not connected()
    for refused in (sent, created):
        assert refused.exit_code == 2
        assert "starttls=1" in refused.stderr and "smtps://" in refused.stderr
        assert refused.stderr.count("\n") == 1
    assert mail_of(cli)["status"] == "pending"


BAD_URLS = {
    "starttls=true": "smtp://127.0.0.1:2525?starttls=true",
    "STARTTLS=1": "smtp://127.0.0.1:2525?STARTTLS=1",
    "timeout=abc": "smtp://127.0.0.1:2525?starttls=1&timeout=abc",
    "unknown": "smtp://127.0.0.1:2525?verify=0",
    "repeated": "smtp://127.0.0.1:2525?starttls=1&starttls=1",
    "port abc": "smtp://127.0.0.1:abc",
    "port 70000": "smtp://127.0.0.1:70000",
    "port 0": "smtp://127.0.0.1:0",
    "smtps with starttls": "smtps://127.0.0.1?starttls=1",
    "password in url": "smtps://chorus:Pa55-in-url@127.0.0.1",
    "password with a slash": "smtps://chorus:Pa55-in-url/x:1@127.0.0.1",
    "not smtp": "http://127.0.0.1",
}


@pytest.mark.parametrize("url", list(BAD_URLS.values()), ids=list(BAD_URLS))
def test_sec8_url_parameters_and_ports_are_read_strictly(cli, unchanged, url):
    cli.env["CHORUS_SMTP_URL"] = url
    with unchanged():
        created = cli.create(MARIE)
    sent = cli("mail", "send-pending")

    for refused in (created, sent):
        assert refused.exit_code == 2, refused.stderr
        assert refused.stderr.count("\n") == 1 and "Erreur interne" not in refused.stderr
        assert "Pa55-in-url" not in refused.stderr
    assert "rien n'a été enregistré" not in created.stderr


def test_sec12_a_bad_smtp_port_is_named_and_nothing_is_saved(cli, unchanged):
    cli.env["CHORUS_SMTP_URL"] = "smtp://127.0.0.1:abc"
    with unchanged():
        created = cli.create(MARIE)
    assert created.exit_code == 2
    assert "Port SMTP invalide" in created.stderr and "« abc »" in created.stderr
    cli.env.pop("CHORUS_SMTP_URL")
    assert cli.mails() == []


def test_sec12_a_delivery_failure_after_the_commit_says_what_was_saved(cli, tmp_path):
    not_pem = tmp_path / "not-a-ca.pem"
    not_pem.write_text("not a certificate\n")
    with listening() as (port, connected):
        cli.env.update(
            CHORUS_SMTP_URL=f"smtps://127.0.0.1:{port}", CHORUS_SMTP_CA_FILE=str(not_pem)
        )
        created = cli.create(MARIE)
        assert not connected()

    assert created.exit_code == 0
    assert "rien n'a été enregistré" not in created.stderr
    assert "Ce qui a été demandé est enregistré" in created.stderr
    assert "CHORUS_SMTP_CA_FILE" in created.stderr
    assert "Compte marie.curie@example.fr créé" in created.stderr
    assert mail_of(cli)["status"] == "pending"


# --- the delivery policy (SEC-8) ----------------------------------------------------------


class Refusing(Inbox):
    """Refuses one recipient for good (550); accepts the others."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refused:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_sec8_a_permanent_refusal_marks_the_mail_failed_and_it_is_not_retried(cli, clock):
    with server(Refusing(MARIE)) as (port, inbox):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"

        created = cli.create(MARIE)

        assert created.exit_code == 0
        assert "550" in created.stderr and "chorus mail retry" in created.stderr
        mail = mail_of(cli)
        assert mail["status"] == "failed" and mail["attempts"] == 1
        assert mail["last_error"].startswith("550 5.1.1")
        assert mail["next_attempt_at"] is None

        clock.advance(hours=7)
        assert cli.create(PAUL, last="Martin", first="Paul").exit_code == 0  # delivers its own
        assert cli("mail", "send-pending").exit_code == 0
        assert [m["To"] for m in inbox.messages()] == [PAUL]
        assert mail_of(cli)["attempts"] == 1  # never tried again by itself


def test_sec8_mail_retry_and_discard_are_audited_operator_actions(cli, clock):
    with server(Refusing(MARIE)) as (port, inbox):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        cli.create(MARIE)
        mail_id = mail_of(cli)["id"]

        retried = cli("mail", "retry", str(mail_id))

        assert retried.exit_code == 1  # tried, refused again
        assert mail_of(cli)["attempts"] == 2 and mail_of(cli)["status"] == "failed"
        inbox.refused = "nobody@example.fr"
        again = cli("mail", "retry", "--all-failed")
        assert again.exit_code == 0, again.stderr
        assert [m["To"] for m in inbox.messages()] == [MARIE]
        assert mail_of(cli)["status"] == "sent"
        # A sent mail is neither retried nor discarded.
        assert cli("mail", "retry", str(mail_id)).exit_code == 1
        assert cli("mail", "discard", str(mail_id)).exit_code == 1

    cli.env.pop("CHORUS_SMTP_URL")
    cli.create(PAUL, last="Martin", first="Paul")
    paul = mail_of(cli, PAUL)["id"]
    discarded = cli("mail", "discard", str(paul))
    assert discarded.exit_code == 0, discarded.stderr
    assert mail_of(cli, PAUL)["status"] == "discarded"
    assert cli("mail", "discard", "999").exit_code == 3
    assert cli("mail", "retry").exit_code == 2  # an id or --all-failed

    rows = audit_rows(cli)
    assert ("system", "mail.discard", f"mail {paul}") in rows
    assert ("system", "mail.retry", f"mail {mail_id}") in rows
    assert ("system", "mail.retry", "mail") in rows


def audit_rows(cli) -> list[tuple[str, str, str]]:
    from sqlalchemy import text

    from chorus_cli.store import engine as engine_module

    with engine_module.get_engine(cli.url).connect() as conn:
        return [
            tuple(r) for r in conn.execute(text("SELECT actor, action, target FROM audit_entry"))
        ]


def test_sec8_mail_commands_are_audited_as_the_logged_in_account_when_there_is_one(cli):
    cli.logged_in(MARIE)
    cli.create(PAUL, last="Martin", first="Paul")
    paul = mail_of(cli, PAUL)["id"]

    assert cli("mail", "discard", str(paul)).exit_code == 0

    assert (MARIE, "mail.discard", f"mail {paul}") in audit_rows(cli)


def test_sec8_a_temporary_failure_is_retried_after_1_5_15_60_minutes_then_6_hours(cli, clock):
    cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nobody listens
    created = cli.create(MARIE)
    assert created.exit_code == 0 and "réessayé" in created.stderr

    gaps = []
    for _ in range(6):
        mail = mail_of(cli)
        assert mail["status"] == "pending"
        due = datetime.fromisoformat(mail["next_attempt_at"].replace("Z", "+00:00"))
        gaps.append((due - clock.now()).total_seconds() / 60)
        too_early = cli("mail", "send-pending")  # not due yet: not tried
        assert too_early.exit_code == 0 and mail_of(cli)["attempts"] == mail["attempts"]
        assert "attend" in too_early.stderr
        clock.advance(seconds=(due - clock.now()).total_seconds())
        assert cli("mail", "send-pending").exit_code == 1  # tried, failed again
        assert mail_of(cli)["attempts"] == mail["attempts"] + 1
    assert gaps == [1, 5, 15, 60, 360, 360]
    assert (
        "Connection refused" in mail_of(cli)["last_error"] or "Errno" in mail_of(cli)["last_error"]
    )


def test_sec8_commands_that_queued_no_mail_never_deliver(cli, clock):
    assert cli.create(MARIE).exit_code == 0  # no SMTP yet: pending
    with server() as (port, inbox):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        for args in (("mail", "list"), ("mail", "show", "1"), ("whoami",), ("audit", "list")):
            cli(*args)
        assert inbox.envelopes == []
        assert mail_of(cli)["attempts"] == 0

        # A command that queues a mail delivers it, and what is due (Marie's).
        assert cli.create(PAUL, last="Martin", first="Paul").exit_code == 0
        assert sorted(m["To"] for m in inbox.messages()) == [MARIE, PAUL]


def test_sec8_a_mail_keeps_one_message_id_so_a_resend_after_a_crash_is_recognisable(cli, clock):
    """A delivery killed after the server took the mail, before it was recorded: the mail
    stays claimed until the claim is stale, then goes again with the same Message-ID."""
    import multiprocessing

    from tests.processes import _cli_in_child

    assert cli.create(MARIE).exit_code == 0
    queued_id = mail_of(cli)["message_id"]
    assert queued_id and queued_id.startswith("<") and queued_id.endswith("@chorus-pro.gouv.fr>")

    received, hold = threading.Event(), threading.Event()

    class Holding(Inbox):
        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append(envelope)
            received.set()
            if len(self.envelopes) == 1:  # the first delivery never gets its answer
                await asyncio.get_running_loop().run_in_executor(None, hold.wait, 20)
            return "250 OK"

    with server(Holding()) as (port, inbox):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        child = context.Process(
            target=_cli_in_child,
            args=(cli.env, ["mail", "send-pending"], "", context.Barrier(1), results),
        )
        child.start()
        assert received.wait(20)
        child.kill()  # kill -9 while the server holds the mail
        child.join(10)
        hold.set()

        claimed = mail_of(cli)
        assert claimed["status"] == "sending" and claimed["attempts"] == 1
        clock.advance(minutes=2)
        cli("mail", "send-pending")  # the claim is fresh: another process may be sending
        assert len(inbox.envelopes) == 1
        clock.advance(minutes=15)
        resent = cli("mail", "send-pending")
        assert resent.exit_code == 0, resent.stderr

        first, second = inbox.messages()
        assert first["Message-ID"] == second["Message-ID"] == queued_id
    mail = mail_of(cli)
    assert mail["status"] == "sent" and mail["attempts"] == 2


def test_sec8_a_bad_chorus_mail_from_is_refused_where_it_is_read(cli, unchanged):
    cli.env["CHORUS_MAIL_FROM"] = "noreply@chorus.fr\r\nBcc: spy@example.org"
    with unchanged():
        created = cli.create(MARIE)
    assert created.exit_code == 2
    assert "CHORUS_MAIL_FROM" in created.stderr and created.stderr.count("\n") == 1
    cli.env["CHORUS_MAIL_FROM"] = "Chorus"  # not an address
    assert cli.create(MARIE).exit_code == 2
    # Commands that send no mail are not concerned.
    assert cli("mail", "list").exit_code == 0
    assert cli("whoami").exit_code == 5


def test_sec8_one_bad_mail_never_blocks_the_outbox(cli):
    """A mail an older chorus queued with a CR/LF in its sender fails alone, for good."""
    from sqlalchemy import text

    from chorus_cli.store import engine as engine_module

    cli.create(MARIE)
    with engine_module.get_engine(cli.url).begin() as conn:
        conn.execute(text("UPDATE mail SET sender = 'a@b.fr\r\nBcc: spy@example.org'"))
    cli.create(PAUL, last="Martin", first="Paul")
    with server() as (port, inbox):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"

        sent = cli("mail", "send-pending")

        assert sent.exit_code == 1
        assert [m["To"] for m in inbox.messages()] == [PAUL]
        assert "Erreur interne" not in sent.stderr
        bad = mail_of(cli, MARIE)
        assert bad["status"] == "failed" and "linefeed" in bad["last_error"]
        later = cli.create("jeanne@example.fr", last="Barret", first="Jeanne")
        assert later.exit_code == 0 and "Erreur interne" not in later.stderr
        assert [m["To"] for m in inbox.messages()] == [PAUL, "jeanne@example.fr"]


def test_sec8_mail_list_shows_status_attempts_and_last_error(cli):
    cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    cli.create(MARIE)

    table = cli("mail", "list")
    as_json = cli("mail", "list", "--json").json()[0]

    assert table.exit_code == 0
    assert all(word in table.stdout for word in ("essais", "dernière", "erreur"))
    assert "Connection" in table.stdout  # the last error, wrapped to the terminal's width
    assert as_json["attempts"] == 1 and "ConnectionRefusedError" in as_json["last_error"]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_sec8_out1_mail_list_with_attempts_fits_80_columns(cli, lang):
    cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    cli.create(MARIE)
    cli.env["COLUMNS"] = "80"

    table = cli("mail", "list", "--lang", lang)

    assert table.exit_code == 0, table.stderr
    assert MARIE in table.stdout and "Connection" in table.stdout
    assert max(map(len, table.stdout.splitlines())) <= 80, table.stdout


# --- the store is not held while a server answers (SEC-8) -----------------------------------


def test_sec8_delivery_holds_no_lock_while_the_server_answers(cli, tmp_path):
    from tests.test_auth import run, subprocess_env

    assert cli.create(MARIE).exit_code == 0  # pending
    in_data, release = threading.Event(), threading.Event()

    class Slow(Inbox):
        async def handle_DATA(self, server, session, envelope):
            in_data.set()
            # The server "takes its time" until the other writer is done (at most 20 s).
            await asyncio.get_running_loop().run_in_executor(None, release.wait, 20)
            self.envelopes.append(envelope)
            return "250 OK"

    with server(Slow()) as (port, inbox):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        outcome = {}
        delivery = threading.Thread(
            target=lambda: outcome.update(result=cli("mail", "send-pending"))
        )
        delivery.start()
        try:
            assert in_data.wait(20)
            other = run(
                subprocess_env(tmp_path, CHORUS_DATABASE_URL=cli.url,
                               CHORUS_DATA_DIR=str(cli.home), PYTHON_KEYRING_BACKEND=HEADLESS),
                "account", "create", "--email", PAUL, "--last-name", "Martin",
                "--first-name", "Paul",
            )  # fmt: skip
            # Done while the delivery still waits for the server's answer.
            still_sending = delivery.is_alive()
        finally:
            release.set()
            delivery.join(30)
        assert other.returncode == 0, other.stderr
        assert still_sending
        assert outcome["result"].exit_code == 0, outcome["result"].stderr
    assert mail_of(cli)["status"] == "sent"
    assert mail_of(cli, PAUL)["status"] == "pending"


# --- chorus mail password (SEC-8) ------------------------------------------------------------


def test_sec8_mail_password_on_a_headless_machine_uses_the_0600_file(cli, ca, ca_file, tmp_path):
    """The real executable, with no keyring backend at all (PYTHON_KEYRING_BACKEND=fail)."""
    from tests.test_auth import run, subprocess_env

    assert cli.create(MARIE).exit_code == 0  # no SMTP yet: pending
    with server(tls="starttls", context=server_context(ca), password=SMTP_PASSWORD) as (
        port,
        inbox,
    ):
        url = f"smtp://{SMTP_USER}@127.0.0.1:{port}?starttls=1"
        env = subprocess_env(
            tmp_path,
            CHORUS_DATABASE_URL=cli.url,
            CHORUS_DATA_DIR=str(cli.home),
            PYTHON_KEYRING_BACKEND=HEADLESS,
            CHORUS_SMTP_URL=url,
            CHORUS_SMTP_CA_FILE=ca_file,
        )
        # A pipe answers the prompt, one line (SPEC: prompts).
        stored = run(env, "mail", "password", input=SMTP_PASSWORD + "\n")
        assert stored.returncode == 0, stored.stderr
        assert f"{SMTP_USER}@127.0.0.1" in stored.stderr

        keyring_file = Path(cli.home) / "session-keyring.json"
        assert stat.S_IMODE(keyring_file.stat().st_mode) == 0o600
        assert json.loads(keyring_file.read_text())  # the entry is there

        sent = run(env, "mail", "send-pending")

        assert sent.returncode == 0, sent.stderr
        assert [m["To"] for m in inbox.messages()] == [MARIE]
        assert SMTP_PASSWORD not in stored.stdout + stored.stderr + sent.stdout + sent.stderr

        removed = run(env, "mail", "password", "--remove")
        assert removed.returncode == 0, removed.stderr
        assert cli.create(PAUL, last="Martin", first="Paul").exit_code == 0
        again = run(env, "mail", "send-pending")
        assert again.returncode == 1 and "chorus mail password" in again.stderr
        assert len(inbox.envelopes) == 1
    assert "chorus mail password" in mail_of(cli, PAUL)["last_error"]


def test_sec8_mail_password_needs_a_url_with_a_user(cli):
    no_url = cli("mail", "password", "--password-stdin", input="x\n")
    assert no_url.exit_code == 2 and "CHORUS_SMTP_URL" in no_url.stderr
    no_user = cli("mail", "password", "--url", "smtps://relay.example.fr", "--password-stdin",
                  input="x\n")  # fmt: skip
    assert no_user.exit_code == 2 and "utilisateur" in no_user.stderr
    empty = cli("mail", "password", "--url", "smtps://u@relay.example.fr", "--password-stdin",
                input="\n")  # fmt: skip
    assert empty.exit_code == 2 and "vide" in empty.stderr
    clear = cli("mail", "password", "--url", "smtp://u@relay.example.fr", "--password-stdin",
                input="x\n")  # fmt: skip
    assert clear.exit_code == 2 and "starttls=1" in clear.stderr


def test_sec8_a_flow_delivers_the_activation_mails_it_queued(cli, tmp_path):
    """`bulk import` writes its mails in bulk, not one by one: it delivers them too."""
    from tests.test_bulk import AGENTS, CORINNE, agents, imported, public_world, write

    world = public_world(cli, tmp_path)
    with server() as (port, inbox):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        assert world(CORINNE, "mail", "list").exit_code == 0
        assert inbox.envelopes == []  # a command that queued no mail delivers nothing

        done = imported(world, CORINNE, write(tmp_path, "a.csv", agents()))

        assert done.exit_code == 0, done.stderr
        delivered = {m["To"] for m in inbox.messages()}
        assert {email for _last, _first, email, _phone in AGENTS} <= delivered


def test_sec8_mails_queued_by_a_flow_and_by_the_seed_have_their_message_id_at_once(cli, tmp_path):
    """SEC-8: one Message-ID from creation, whichever path queued the mail (no SMTP)."""
    from tests.test_bulk import AGENTS, CORINNE, agents, imported, public_world, write

    world = public_world(cli, tmp_path)
    done = imported(world, CORINNE, write(tmp_path, "a.csv", agents()))
    assert done.exit_code == 0, done.stderr
    flow_mails = [m for m in world(CORINNE, "mail", "list", "--json").json()
                  if m["to"] in {email for _l, _f, email, _p in AGENTS}]  # fmt: skip
    assert len(flow_mails) == len(AGENTS)
    ids = [m["message_id"] for m in flow_mails]
    assert all(i and i.startswith("<") and i.endswith(">") for i in ids)
    assert len(set(ids)) == len(ids)

    seeded = tmp_path / "seeded.db"
    env = {**cli.env, "CHORUS_DATABASE_URL": f"sqlite:///{seeded}"}
    from chorus_cli.inprocess import invoke

    made = invoke(["seed", "--accounts", "40", "--structures", "5", "--seed", "3"],
                  env=env, clock=cli.clock)  # fmt: skip
    assert made.exit_code == 0, made.stderr
    mails = invoke(["mail", "list", "--json"], env=env, clock=cli.clock).json()
    assert mails and all(m["message_id"] for m in mails)


class Greylisting(Inbox):
    """Asks to come back later (451) for every recipient."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "451 4.7.1 greylisted, try again later"


def test_sec8_a_4xx_reply_is_temporary_the_mail_stays_pending(cli, clock):
    with server(Greylisting()) as (port, inbox):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"

        created = cli.create(MARIE)

        assert created.exit_code == 0 and "réessayé" in created.stderr
        mail = mail_of(cli)
        assert mail["status"] == "pending" and mail["last_error"].startswith("451 4.7.1")
        assert mail["next_attempt_at"] is not None


def test_sec8_sec10_a_silent_server_costs_one_timeout_and_every_mail_stays_pending(cli):
    """A server that accepts the connection and never answers (SEC-10: the SMTP timeout,
    here ?timeout=1): the run gives up once, and each due mail waits for its next try."""
    for who in (MARIE, PAUL, "jeanne@example.fr"):
        assert cli.create(who, last="Nom", first="Prénom").exit_code == 0  # no SMTP: pending
    with listening() as (port, connected):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}?timeout=1"

        sent = cli("mail", "send-pending")

        assert connected()
    assert sent.exit_code == 1
    mails = cli.mails()
    assert {m["status"] for m in mails} == {"pending"}
    assert {m["attempts"] for m in mails} == {1}
    assert all("timed out" in m["last_error"] for m in mails)


def test_sec10_every_smtp_connection_has_a_15_second_timeout_unless_the_url_says():
    from chorus_cli.mail.outbox import SmtpTarget

    assert SmtpTarget.parse("smtps://relay.example.fr").timeout == 15
    assert SmtpTarget.parse("smtp://relay.example.fr:587?starttls=1").timeout == 15
    assert SmtpTarget.parse("smtp://relay.example.fr?timeout=40").timeout == 40


def test_sec8_an_atomic_batch_delivers_its_mails_once_committed(cli):
    lines = (
        f"account create --email {MARIE} --last-name Curie --first-name Marie\n"
        f"account create --email {PAUL} --last-name Martin --first-name Paul\n"
    )
    with server() as (port, inbox):
        cli.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"

        done = cli("batch", "--atomic", "-", input=lines)

        assert done.exit_code == 0, done.stderr
        assert sorted(m["To"] for m in inbox.messages()) == [MARIE, PAUL]
        refused = cli("batch", "--atomic", "-", input="mail retry --all-failed\n")
        assert refused.exit_code == 2  # it reaches the network: not in one transaction
