"""``chorus demo``: the main flows, run for real on a temporary store and narrated.

Every step is a real ``chorus`` command run in this process (through the entry point
``chorus demo`` hands over, ``cli.main``), on a throwaway SQLite store, with a clock the
demo can move forward; nothing touches your store or keyring.
"""

from __future__ import annotations

import base64
import re
import shlex
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.panel import Panel
from rich.rule import Rule
from rich.text import Text

from chorus_cli.inprocess import Outcome, invoke
from chorus_cli.kernel.clock import FrozenClock

if TYPE_CHECKING:
    import pyotp

    from chorus_cli.commands._common import EntryPoint

PASSWORD = "Vr4i-Mot2Passe!"
WEAK = "marie2026"


def narration(key: str, lang: str) -> str:
    """A line of the demo's narration (``demo.KEY`` in the catalogue, SET-5)."""
    from chorus_cli.i18n import sentence

    return sentence(f"demo.{key}", lang)


class Demo:
    def __init__(self, entry: EntryPoint, folder: Path, lang: str, plain: bool) -> None:
        self.entry = entry  # runs one command line: ``cli.main``
        self.folder = folder
        from chorus_cli.ui.tables import terminal_width

        # The commands draw their tables for this width (OUT-1); the demo never folds
        # their output again: what they print on stdout is data, shown as it is.
        width = terminal_width()
        self.console = Console(stderr=False, no_color=plain, highlight=False, width=width)
        self.plain = plain
        self.clock = FrozenClock()
        self.lang = lang
        self.steps = 0
        self.env = {
            "CHORUS_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
            "CHORUS_DATA_DIR": str(folder),
            "CHORUS_LANG": lang,
            # Tables are captured, then shown here: draw them for this terminal's width.
            "COLUMNS": str(width),
        }

    def say(self, key: str, **params: str) -> None:
        self.console.print(Text(narration(key, self.lang).format(**params), style="italic"))

    def step(self, key: str) -> None:
        self.steps += 1
        title = f"{self.steps}. {narration(key, self.lang)}"
        line = "-" if self.plain else "─"
        self.console.print()
        if len(title) + 6 > self.console.width:  # a rule would cut it: above its own line
            self.console.print(Text(title, style="cyan"))
            self.console.print(Rule(style="cyan", characters=line))
        else:
            self.console.print(Rule(title, style="cyan", characters=line))

    def run(
        self, *args: str, input: str | None = None, shown: str | None = None, quiet: bool = False
    ) -> Outcome:
        """Run ``chorus ARGS``; a link argument is printed as ``shown`` (LINK)."""
        words = [shown if shown and "token=" in a else shlex.quote(_short(a)) for a in args]
        lines = input.strip().splitlines() if input else []
        if len(lines) > 1:  # one answer a line, as a pipe gives them
            pipe = ["printf", "'%s\\n'", *(shlex.quote(line) for line in lines), "|"]
        else:
            pipe = ["echo", shlex.quote(lines[0]), "|"] if lines else []
        for line in _shell_lines([*pipe, "chorus", *words], self.console.width):
            self.console.print(Text(line, style="bold green"), soft_wrap=True)
        outcome = invoke(list(args), env=self.env, clock=self.clock, input=input, entry=self.entry)
        # The exit code only when it is not 0, as a shell prompt that shows failures.
        failed = Text(f"exit {outcome.exit_code}", style="dim") if outcome.exit_code else None
        if quiet:  # a preparation step: the command (and a failure) are enough
            if failed:
                self.console.print(failed)
            return outcome
        # Both streams in the order they were written, as a terminal shows them: the
        # TOTP step's guidance (stderr) before the QR code and the key (stdout).
        written = [[stream, text] for stream, text in outcome.written if text]
        while written and not written[-1][1].rstrip():
            written.pop()
        if written:
            written[-1][1] = written[-1][1].rstrip()
        for stream, text in written:
            if stream == "stderr":  # sentences: wrapped at their words
                self.console.print(Text(text, style="yellow"), end="")
            else:  # data (tables fitted by the command, CSV, a QR code): as it is
                self.console.print(Text(text), end="", soft_wrap=True)
        if written:
            self.console.print()
        if failed:
            self.console.print(failed)
        return outcome

    def last_mail(self, to: str) -> dict:
        listed = invoke(
            ["mail", "list", "--to", to, "--json"], env=self.env, clock=self.clock, entry=self.entry
        )
        return listed.json()[0]

    def mail_body(self, to: str) -> str:
        return self.last_mail(to)["body"]

    def show_file(self, path: Path) -> None:
        self.console.print(Text(f"$ cat {path.name}", style="bold green"))
        self.console.print(Text(path.read_text(encoding="utf-8").rstrip()), soft_wrap=True)

    def show_mail(self, to: str) -> str:
        mail = self.last_mail(to)
        title = f"{mail['sender']} → {to} : {mail['subject']}"
        self.console.print(Panel(mail["body"], title=title, expand=False))
        return mail["body"]


def run(entry: EntryPoint, lang: str = "fr", plain: bool = False) -> None:
    """Run the narrated demo (under 10 seconds), each command through ``entry``."""
    from chorus_cli.store import keychain

    started = time.perf_counter()
    keychain.use_backend(keychain.memory_backend())
    try:
        with tempfile.TemporaryDirectory(prefix="chorus-demo-") as folder:
            _scenario(Demo(entry, Path(folder), lang, plain), Path(folder))
    finally:
        keychain.use_backend(None)
        from chorus_cli.store.engine import dispose_all

        dispose_all()
    Console(highlight=False).print(
        "\n" + narration("done", lang).format(seconds=time.perf_counter() - started)
    )


def _shell_lines(words: list[str], width: int) -> list[str]:
    """``$ WORDS`` on lines of at most ``width`` characters, cut between words with a
    shell continuation (`` \\``), an option kept with its value: still one command to
    copy and paste. A word longer than the width stays whole on its own line."""
    units: list[str] = []
    for word in words:
        if (
            units
            and units[-1].startswith("-")
            and " " not in units[-1]
            and not word.startswith("-")
        ):
            units[-1] += " " + word  # --option value
        else:
            units.append(word)
    lines = ["$"]
    for unit in units:
        if len(lines[-1]) + 1 + len(unit) + 2 > width and lines[-1].strip() != "$":
            lines[-1] += " \\"
            lines.append("   ")
        lines[-1] += " " + unit
    return lines


def _short(arg: str) -> str:
    """A file (bundled, or the demo's own) is shown by its name, not its path; a store's
    URL by its file's name."""
    if arg.startswith("sqlite:///"):
        return "sqlite:///" + Path(arg[len("sqlite:///") :]).name
    path = Path(arg)
    mine = path.parent.name.startswith("chorus-demo-")  # the demo's folder (a file to write)
    return path.name if arg.startswith("/") and (path.is_file() or mine) else arg


def _login(demo: Demo, email: str, quiet: bool = False) -> None:
    """Password, then the code read from the outbox (AUTH-1)."""
    demo.run("login", email, "--password-stdin", input=PASSWORD + "\n", quiet=quiet)
    code = re.search(r"\b\d{6}\b", demo.mail_body(email)).group(0)
    demo.run("login", email, "--code", code, quiet=quiet)


def _sirene(demo: Demo) -> None:
    """An admin, bootstrapped on the empty store, imports the bundled SIRENE sample."""
    from chorus_cli.sirene import sample_files

    admin = "admin@example.fr"
    demo.run("admin", "bootstrap", "--email", admin, "--last-name", "Admin", "--first-name",
             "Ada", quiet=True)  # fmt: skip
    link = _link(demo.mail_body(admin))
    demo.run("account", "activate", link, "--password-stdin", input=PASSWORD + "\n",
             shown="LINK", quiet=True)  # fmt: skip
    _login(demo, admin, quiet=True)
    establishments, units = sample_files()
    demo.run("sirene", "import", str(establishments), "--unites-legales", str(units))
    demo.run("sirene", "search", "boulangerie")
    demo.run("sirene", "lookup", "90012345600015")  # non-diffusible: no address (STR-3)
    demo.run("logout", quiet=True)


def _structure(demo: Demo) -> str:
    """Marie's bakery, a service, and its technical account; returns the account's
    password (shown once) for the integrator's step."""
    siret = "44123456400017"
    demo.run("structure", "create", "--id-type", "SIRET", "--id", siret, "--label", "Siège")
    demo.run("structure", "service", "add", siret, "--code", "ACHATS", "--label", "Achats")
    # TECH-1: her invoicing software's technical account, its password shown once
    made = demo.run("account", "technical", "create", "--structure", siret)
    demo.run("whoami")
    # From the record the command showed (``Issued.view``), not from its table's text.
    return made.records[0]["password"] if made.exit_code == 0 else ""


def _integrator(demo: Demo, technical_password: str) -> None:
    """API-1, API-2: the admin registers the bakery's ERP as an API client; `chorus
    serve` answers on a free loopback port (here in a thread of the demo); the ERP's
    calls, as curl would make them, and the answers."""
    import json
    import threading

    import httpx
    import uvicorn

    from chorus_cli.api.app import Server
    from chorus_cli.config import Settings

    siret = "44123456400017"
    login = f"TECH_1_{siret}@cpro.fr"
    _login(demo, "admin@example.fr", quiet=True)
    registered = demo.run("api", "client", "add", "ERP Boulangerie", "--format", "json").json()
    settings = Settings.from_env(db=demo.env["CHORUS_DATABASE_URL"], lang=demo.lang)
    served = Server(settings, clock=demo.clock)
    app = served.app(log=False)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.01)
    if not server.started:  # uvicorn said why on stderr; the demo says which rule
        from chorus_cli.kernel.errors import BadInput

        raise BadInput("api3.cannot_listen", host="127.0.0.1", port=0)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    demo.say("api_listening", url=base)
    account = base64.b64encode(f"{login}:{technical_password}".encode()).decode()

    def show(command: str, answer: httpx.Response) -> dict:
        for line in _shell_lines(command.split(" "), demo.console.width):
            demo.console.print(Text(line, style="bold green"), soft_wrap=True)
        body = answer.json()
        demo.console.print(Text(json.dumps(body, indent=1, ensure_ascii=False)))
        return body

    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            form = {
                "grant_type": "client_credentials",
                "client_id": registered["client_id"],
                "client_secret": registered["client_secret"],
                "scope": "openid",
            }
            grant = http.post("/api/oauth/token", data=form)
            token = show(
                "curl -d grant_type=client_credentials -d client_id=$CLIENT_ID"
                " -d client_secret=$CLIENT_SECRET -d scope=openid $BASE/api/oauth/token",
                grant,
            )["access_token"]
            headers = {"Authorization": f"Bearer {token}", "cpro-account": account}
            auth = '-H "Authorization: Bearer $TOKEN" -H "cpro-account: $CPRO_ACCOUNT"'
            calls = (
                ("rechercher", {"structure": {"identifiantStructure": siret}}),
                ("consulter", None),
                ("rechercher/services", None),
            )
            structure_id = None
            for path, body in calls:
                if body is None:
                    key = "idStructureCPP" if path == "consulter" else "idStructure"
                    body = {key: structure_id}
                answer = http.post(f"/cpro/structures/v1/{path}", json=body, headers=headers)
                data = json.dumps(body, separators=(",", ":"))
                shown = show(f"curl {auth} -d '{data}' $BASE/cpro/structures/v1/{path}", answer)
                if path == "rechercher":
                    structure_id = shown["listeStructures"][0]["idStructureCPP"]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        served.close()


def _attachment(demo: Demo, manager: str) -> None:
    """Pierre asks to join the bakery with a comment; Marie approves in her terminal;
    Pierre asks for «Organisation modification» too (an «abonnement», MEM-5), Marie
    approves it; Pierre lists his habilitations and his requests (ATT-1..3, HAB-3,
    HAB-5). Each person
    keeps their own session, as in two terminals."""
    from chorus_cli.store import keychain

    sessions = keychain.backend().entries  # the demo's in-memory keyring
    theirs = {"manager": dict(sessions)}

    def as_(who: str) -> None:
        sessions.clear()
        sessions.update(theirs[who])

    pierre = "pierre.durand@example.fr"
    demo.run("account", "create", "--email", pierre, "--last-name", "Durand", "--first-name",
             "Pierre", quiet=True)  # fmt: skip
    link = _link(demo.mail_body(pierre))
    demo.run("account", "activate", link, "--password-stdin", input=PASSWORD + "\n",
             shown="LINK", quiet=True)  # fmt: skip
    _login(demo, pierre, quiet=True)
    comment = "Je tiens la comptabilité de la boulangerie"
    asked = demo.run("attach", "request", "--structure", "Boulangerie Dupont et Fils",
                     "--comment", comment, "--json")  # fmt: skip
    theirs["member"] = dict(sessions)
    as_("manager")
    demo.show_mail(manager)
    demo.run("attach", "pending")
    demo.run("attach", "approve", str(asked.json()["id"]))
    as_("member")  # «Abonnement» (MEM-5): Pierre asks for more than the defaults
    subscribed = demo.run("habil", "request", "--structure", asked.json()["structure"],
                          "--application", "organisation", "--level", "modification",
                          "--comment", "Je gère aussi les rattachements", "--json",
                          quiet=True)  # fmt: skip
    as_("manager")
    demo.run("attach", "approve", str(subscribed.json()["id"]))
    as_("member")
    demo.run("habil", "list")
    demo.run("account", "history")
    as_("manager")  # Marie's terminal again, for what follows


def _flows(demo: Demo) -> None:
    """Corinne, correspondent of Isère (38), loads the bundled flows: the commune and its
    water board (Hélios: active at once), then their agents from an Excel file (cp1252,
    `;`); a second run changes nothing; she exports, creates one account by hand and
    deletes one (OPS-1, OPS-2, PUB-1..3)."""
    from chorus_cli.store import keychain

    sessions = keychain.backend().entries
    before = dict(sessions)
    admin, corinne = "admin@example.fr", "corinne.dgfip@example.fr"
    demo.run("account", "create", "--email", corinne, "--last-name", "Dumas", "--first-name",
             "Corinne", quiet=True)  # fmt: skip
    demo.run("account", "activate", _link(demo.mail_body(corinne)), "--password-stdin",
             input=PASSWORD + "\n", shown="LINK", quiet=True)  # fmt: skip
    sessions.clear()
    _login(demo, admin, quiet=True)
    demo.run("admin", "grant-role", corinne, "correspondent", "--department", "38")
    sessions.clear()
    _login(demo, corinne, quiet=True)
    structures, agents = flow_files()
    demo.run("bulk", "import", str(structures), "--kind", "structures")
    demo.run("bulk", "import", str(agents), "--kind", "accounts", "--dry-run")
    demo.run("bulk", "import", str(agents), "--kind", "accounts")
    demo.run("bulk", "import", str(agents), "--kind", "accounts")
    demo.show_mail("elise.durand@mairie-valdebriane.fr")
    demo.run("structure", "show", "21389999000013")
    demo.step("flows_export")
    demo.run("bulk", "export", "accounts")
    # The same as a workbook, identifiers as text cells; read back, it changes nothing (OUT-4)
    workbook = demo.folder / "comptes.xlsx"
    demo.run("bulk", "export", "accounts", "--format", "xlsx", "--output", str(workbook))
    demo.run("bulk", "import", str(workbook), "--kind", "accounts")
    lea = "lea.roux@regie-valdebriane.fr"
    demo.run("account", "create", "--structure", "25389999100017", "--email", lea,
             "--last-name", "Roux", "--first-name", "Léa")  # fmt: skip
    noe = "noe.lefevre@mairie-valdebriane.fr"
    demo.run("account", "delete", noe, "--yes", "--dry-run")  # OUT-5: what would change
    demo.run("account", "delete", noe, "--yes")
    sessions.clear()
    sessions.update(before)  # Marie's terminal again


def _batch(demo: Demo, folder: Path) -> None:
    """Marie's lines in one process; then an --atomic batch whose third line fails:
    nothing of it stays (OPS-6)."""
    lines = folder / "lignes.txt"
    lines.write_text(
        "# Les commandes de Marie, en un seul processus\n"
        "whoami --format csv\n"
        "attach list\n"
        "habil list --profile organisation\n",
        encoding="utf-8",
    )
    demo.show_file(lines)
    demo.run("batch", str(lines))
    atomic = folder / "atomique.txt"
    atomic.write_text(
        "structure service add 44123456400017 --code RH --label 'Ressources humaines'\n"
        "structure service add 44123456400017 --code COMPTA --label Comptabilité\n"
        "structure service add 44123456400017 --code ACHATS --label 'En double'\n",
        encoding="utf-8",
    )
    demo.show_file(atomic)
    demo.run("batch", str(atomic), "--atomic")
    demo.run("structure", "service", "list", "44123456400017")


def _seed(demo: Demo, folder: Path) -> None:
    """A seeded store of its own, then its copy (to PostgreSQL in real life) (OPS-3, 7)."""
    seeded = f"sqlite:///{folder / 'seed.db'}"
    copied = f"sqlite:///{folder / 'copie.db'}"
    demo.run("seed", "--accounts", "500", "--structures", "25", "--seed", "7", "--db", seeded)
    demo.run("db", "copy", "--to", copied, "--db", seeded)


def _output(demo: Demo) -> None:
    """Marie picks her columns and her rows (OUT-2, OUT-3): the last five lines of her
    own activity, then her structure's people as JSON lines for a script."""
    demo.run("audit", "list", "--fields", "at,action,target", "--limit", "5")
    demo.run("structure", "members", "44123456400017", "--fields", "login_email,status",
             "--format", "jsonl")  # fmt: skip


def flow_files() -> tuple[Path, Path]:
    """The bundled flows (chorus_cli/data/flows): structures, then their agents."""
    folder = Path(__file__).resolve().parent / "data" / "flows"
    return folder / "structures_38.csv", folder / "agents_val_de_briane.csv"


def _link(body: str) -> str:
    return re.search(r"https?://\S+token=\S+", body).group(0)


def _scenario(demo: Demo, folder: Path) -> None:
    marie = "marie.curie@example.fr"
    demo.console.print(Rule(narration("title", demo.lang), style="bold"))
    demo.say("store", path=str(folder / "demo.db"))

    demo.step("sirene")
    _sirene(demo)

    demo.step("s1")
    demo.run(
        "account",
        "create",
        "--email",
        marie,
        "--last-name",
        "Curie",
        "--first-name",
        "Marie",
        "--phone",
        "01 23 45 67 89",
    )

    demo.step("s2")
    demo.run("mail", "list", "--to", marie)
    link = _link(demo.show_mail(marie))
    demo.say("link", link=link[:60] + "…")

    demo.step("s3")
    demo.run("account", "activate", link, "--password-stdin", input=WEAK + "\n", shown="LINK")

    demo.step("s4")
    demo.run("account", "activate", link, "--password-stdin", input=PASSWORD + "\n", shown="LINK")

    demo.step("s5")
    demo.run("login", marie, "--password-stdin", input=PASSWORD + "\n")
    body = demo.show_mail(marie)
    code = re.search(r"\b\d{6}\b", body).group(0)
    demo.say("code", code=code)
    demo.run("login", marie, "--code", code)

    demo.step("s6")
    demo.run("whoami")

    demo.step("moncompte")
    _mon_compte(demo, folder)

    demo.step("structure")
    technical_password = _structure(demo)

    demo.step("attach")
    _attachment(demo, marie)

    demo.step("notify")
    _weekly(demo, marie)

    demo.step("members")
    _members(demo)

    demo.step("flows")
    _flows(demo)

    demo.step("batch")
    _batch(demo, folder)

    demo.step("seed")
    _seed(demo, folder)

    demo.step("output")
    _output(demo)

    demo.step("s7")
    app = _totp(demo, marie)

    demo.step("seedkey")
    _rotate_key(demo, marie, app)

    demo.step("s8")
    demo.run("audit", "list")

    demo.step("s9")
    paul = "paul.martin@example.fr"
    demo.run("account", "create", "--email", paul, "--last-name", "Martin", "--first-name", "Paul")
    old_link = _link(demo.mail_body(paul))
    demo.clock.advance(minutes=61)
    demo.say("clock")
    demo.run(
        "account", "activate", old_link, "--password-stdin", input=PASSWORD + "\n", shown="LINK"
    )
    demo.run("account", "forgot-password", paul)
    fresh = _link(demo.mail_body(paul))
    demo.run(
        "account",
        "reset-password",
        fresh,
        "--password-stdin",
        input=PASSWORD + "\n",
        shown="NEW_LINK",
    )

    demo.step("s10")
    _login(demo, paul, quiet=True)
    _login_address(demo, paul, "paul.martin@nouveau.fr")

    demo.step("s11")
    _deactivation(demo, "paul.martin@nouveau.fr")

    demo.step("support")
    _support(demo, "pierre.durand@example.fr")

    demo.step("smtp")
    _smtp_down(demo)

    demo.step("api")
    _integrator(demo, technical_password)


def _weekly(demo: Demo, email: str) -> None:
    """SET-2: choose notifications, then the weekly job: a dry run, the mail, a second
    run that sends nothing new."""
    demo.run("account", "notifications", "--on", "Facturation CPRO", "--weekly")
    demo.run("notify", "weekly", "--dry-run")
    demo.run("notify", "weekly")
    demo.show_mail(email)
    demo.run("notify", "weekly")


def _members(demo: Demo) -> None:
    """MEM-1, MEM-2: Marie lists her bakery's members, removes Pierre (his profiles go
    with him, one notice), and the list no longer has him."""
    bakery, pierre = "44123456400017", "pierre.durand@example.fr"
    demo.run("structure", "members", bakery)
    demo.run("structure", "remove-member", bakery, pierre, "--yes")
    demo.show_mail(pierre)
    demo.run("structure", "members", bakery, "--profile", "organisation modification")


def _mon_compte(demo: Demo, folder: Path) -> None:
    """A photo made on the spot, then one listing in accessible mode (SET-1, SET-5)."""
    from PIL import Image

    photo = folder / "portrait.png"
    Image.new("RGB", (200, 200), (0, 85, 164)).save(photo)
    demo.run("account", "photo", str(photo))
    demo.run("account", "update", "--workplace-address", "12 rue de la Paix, 75002 Paris")
    demo.run("account", "preferences", "--accessibility", "on", "--surveys", "on")
    demo.run("habil", "catalogue")  # plain: no lines, no colour
    demo.run("account", "preferences", "--accessibility", "off")


def _login_address(demo: Demo, email: str, new: str) -> None:
    """LA-1..3: ask, see it pending, confirm with the link mailed to the new address."""
    demo.run("login-address", "change", new, input=f"{PASSWORD}\n{new}\n")
    demo.run("login-address", "status")
    link = _link(demo.show_mail(new))
    demo.run("login-address", "confirm", link, shown="LINK")
    demo.show_mail(email)


def _deactivation(demo: Demo, email: str) -> None:
    """SET-4: deactivate (sessions end), a log-in refused, reactivate with the mailed code."""
    demo.run("account", "deactivate", "--yes")
    demo.run("login", email, "--password-stdin", input=PASSWORD + "\n")
    demo.run("account", "reactivate", email, "--password-stdin", input=PASSWORD + "\n")
    code = re.search(r"\b\d{6}\b", demo.mail_body(email)).group(0)
    demo.say("code", code=code)
    demo.run("account", "reactivate", email, "--code", code)


def _support(demo: Demo, email: str) -> None:
    """MEM-3, MEM-4: Sam, made support by the admin, looks at Pierre's whole account (last
    log-in, factors, structures), suspends it with a reason (his sessions end, a log-in
    is refused with its own sentence, he is mailed), then restores it."""
    from chorus_cli.store import keychain

    sessions = keychain.backend().entries
    before = dict(sessions)
    admin, sam = "admin@example.fr", "sam.support@example.fr"
    demo.run("account", "create", "--email", sam, "--last-name", "Leroy", "--first-name",
             "Sam", quiet=True)  # fmt: skip
    demo.run("account", "activate", _link(demo.mail_body(sam)), "--password-stdin",
             input=PASSWORD + "\n", shown="LINK", quiet=True)  # fmt: skip
    sessions.clear()
    _login(demo, admin, quiet=True)
    demo.run("admin", "grant-role", sam, "support", quiet=True)
    sessions.clear()
    _login(demo, sam, quiet=True)
    demo.run("account", "show", email)
    demo.run("account", "suspend", email, "--reason", "Poste quitté, en attente du départ")
    demo.show_mail(email)
    demo.run("login", email, "--password-stdin", input=PASSWORD + "\n")
    demo.run("account", "restore", email)
    sessions.clear()
    sessions.update(before)


def _smtp_down(demo: Demo) -> None:
    """SEC-8: an SMTP server that does not answer. The account is made, its mail waits
    with its attempt and reason (tried again after 1, 5, 15, 60 minutes, then every 6
    hours); an operator may discard it."""
    import socket

    with socket.socket() as probe:  # a port of this machine where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    demo.env["CHORUS_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    demo.say("smtp_down", url=demo.env["CHORUS_SMTP_URL"])
    try:
        jeanne = "jeanne.barret@example.fr"
        demo.run("account", "create", "--email", jeanne, "--last-name", "Barret",
                 "--first-name", "Jeanne", quiet=False)  # fmt: skip
        demo.run("mail", "list", "--to", jeanne)
        demo.run("mail", "send-pending")  # not due yet: nothing is tried
        demo.run("mail", "discard", str(demo.last_mail(jeanne)["id"]))
    finally:
        demo.env.pop("CHORUS_SMTP_URL", None)


def _totp(demo: Demo, email: str) -> pyotp.TOTP:
    """Enrol a TOTP app from the QR code, confirm it, and log in with a code (MFA-2, MFA-3)."""
    import pyotp

    shown = demo.run("mfa", "totp", "add", "--name", "Téléphone pro", input=PASSWORD + "\n")
    grouped = re.search(r"^(?:[A-Z2-7]{4} ){7}[A-Z2-7]{4}$", shown.stdout, re.MULTILINE)
    secret = grouped.group(0).replace(" ", "")
    app = pyotp.TOTP(secret)
    code = app.at(demo.clock.now())
    demo.say("totp", code=code)
    demo.run("mfa", "totp", "confirm", code)
    demo.run("mfa", "list")
    demo.clock.advance(seconds=30)
    demo.run(
        "login",
        email,
        "--password-stdin",
        "--code",
        app.at(demo.clock.now()),
        input=PASSWORD + "\n",
    )
    return app


def _rotate_key(demo: Demo, email: str, app: pyotp.TOTP) -> None:
    """SEC-2: the admin seals every TOTP seed with a new key; Marie's app still works."""
    from chorus_cli.store import keychain

    entries = keychain.backend().entries  # sessions and the seed key, in memory
    marie = {k: v for k, v in entries.items() if k[1].startswith("session:")}
    _login(demo, "admin@example.fr", quiet=True)
    demo.run("db", "rotate-key")
    demo.run("logout", quiet=True)
    entries.update(marie)  # Marie's terminal again
    demo.clock.advance(seconds=30)
    demo.run("login", email, "--password-stdin", "--code", app.at(demo.clock.now()),
             input=PASSWORD + "\n")  # fmt: skip
