"""The ASGI application of `chorus serve` (API-1..3).

Security (API-2, API-3), in the order a request meets it:

- a body over ``MAX_BODY`` (1 MiB): 413, before it is read whole;
- more than ``rate`` requests in a second from one client (the client its bearer token
  was signed for, whichever of its tokens; else the caller's address): 429;
- the bearer token (``api_clients.Tokens.check``) and the ``cpro-account`` header,
  ``base64(login:password)`` of a technical account (``technical.authenticate``):
  missing or wrong, 401 with the same envelope for an unknown login and a wrong
  password. A verified header is remembered ``CACHE_SECONDS`` by the SHA-256 of the
  header (never the password), with the account's password hash, so a request does not
  pay Argon2 and a reset password stops working at once; a refused one is remembered
  too (``REFUSAL_SECONDS``), with the hash it was checked against, so the same wrong
  header sent again is refused without Argon2 while that hash stands;
- the technical account's rights (``authz``): 403;
- any other failure: 500 with the envelope; never a trace or SQL in an answer.

Each request is logged in one line on stderr: method, path, status, milliseconds and
the client's name; never a header's value.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chorus_cli import i18n
from chorus_cli.domain import api_clients, integration, technical
from chorus_cli.domain.serving import RATE
from chorus_cli.kernel.clock import SystemClock
from chorus_cli.kernel.errors import (
    BadInput,
    ChorusError,
    NotAllowed,
    NotAuthenticated,
    NotFound,
)
from chorus_cli.store import journal
from chorus_cli.store.reads import OverBudget, Reads
from chorus_cli.store.uow import UnitOfWork

if TYPE_CHECKING:
    from chorus_cli.config import Settings
    from chorus_cli.kernel.clock import Clock

MAX_BODY = 1024 * 1024  # API-3
CACHE_SECONDS = 60
THREADS = 4  # worker threads running units of work at once (``Server._in_thread``)
# The seconds a read served on the event loop may take (SQLite) before it is stopped and
# run again in a worker thread: a search the index answers in ~0.1 ms stays on the loop,
# one that reads thousands of rows ("sa": ~60 ms at 100,000 structures) holds up no
# other request for longer than this.
INLINE_BUDGET = 0.002
CACHE_MAX = 10_000
# A refused ``cpro-account`` (unknown login or wrong password) is remembered as long as a
# verified one: how long does not decide whether the refusal is right, since each use
# reads the account again and a changed hash (a reset, a rehash, a new account of that
# login) has the header verified at once (``technical.refused_again``). It sets what
# one wrong header repeated at the rate costs (API-3, 50 a second by default: 50 Argon2 a
# second before, one a minute now) and how long an entry stays; ``CACHE_MAX`` bounds how
# many, in a cache of their own (endless distinct wrong headers, each paying its Argon2
# within the rate, never push the verified callers out).
REFUSAL_SECONDS = CACHE_SECONDS
OK = "GCU_MSG_01_000"  # the libelle of a successful answer, as Chorus Pro's

Value = TypeVar("Value")

STATUS = ((NotAuthenticated, 401), (NotAllowed, 403), (NotFound, 404), (BadInput, 400))


class Refused(Exception):
    """An answer decided before any use case: its status and message key."""

    def __init__(self, status: int, key: str, **params: Any) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.params = params


class Stale(technical.TechnicalRefused):
    """A ``cpro-account`` whose account's password hash has changed since it was verified
    (a reset, or a rehash at other parameters by another process): a remembered one is
    forgotten, to be verified again (Argon2, so in a worker thread); one verified a
    moment ago, refused (401)."""


class Callers(Generic[Value]):
    """``cpro-account`` headers for a short while: SHA-256 of the header → what it was
    checked against (verified: the account's id and password hash; refused:
    ``technical.Checked``), until when; at most ``CACHE_MAX`` (then emptied)."""

    def __init__(self, seconds: float = CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._known: dict[str, tuple[Value, float]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._known)

    def get(self, key: str) -> Value | None:
        with self._lock:
            found = self._known.get(key)
        if found is None or found[1] < time.monotonic():
            return None
        return found[0]

    def forget(self, key: str) -> None:
        with self._lock:
            self._known.pop(key, None)

    def put(self, key: str, checked: Value) -> None:
        with self._lock:
            if len(self._known) >= CACHE_MAX:
                self._known.clear()
            self._known[key] = (checked, time.monotonic() + self.seconds)


class Rate:
    """At most ``per_second`` requests in each second per client key (API-3)."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._second = 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = int(time.monotonic())
        with self._lock:
            if now != self._second:
                self._second, self._counts = now, {}
            seen = self._counts.get(key, 0) + 1
            self._counts[key] = seen
        return seen <= self.per_second


def envelope(lang: str, status: int, key: str, **params: Any) -> JSONResponse:
    """The API's error answer: ``codeRetour`` (the HTTP status) and ``libelle``."""
    headers = {"Retry-After": "1"} if status == 429 else None
    body = {"codeRetour": status, "libelle": i18n.message(key, lang, **params)}
    return JSONResponse(body, status_code=status, headers=headers)


def status_of(error: ChorusError) -> int:
    return next((code for kind, code in STATUS if isinstance(error, kind)), 400)


def _credentials(header: str | None) -> tuple[str, str]:
    """``cpro-account``: base64 of ``login:password``."""
    if not header or len(header) > 1000:
        raise Refused(401, "api2.cpro_account")
    try:
        text = base64.b64decode(header.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Refused(401, "api2.cpro_account") from None
    login, colon, password = text.partition(":")
    if not colon or not login or not password:
        raise Refused(401, "api2.cpro_account")
    return login, password


def _bearer(header: str | None) -> str:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused(401, "api2.bearer_missing")
    return token.strip()


def one_cpu() -> int | None:
    """This process's threads (the event loop's, the workers' to come, which inherit it)
    confined to the processor the calling thread runs on; the journal's writer, a process
    of its own, is left free. Their Python runs one thread at a time (the interpreter's
    lock); spread over two processors, each hand-off of that lock between the event loop
    and a worker wakes the other processor, while the database's processes and the
    clients' take it in turns (measured with PostgreSQL on 2 processors: by SIRET 1,140
    requests a second, p99 70 ms; confined 2,000, p99 45 ms). Without /proc, the calling
    thread alone, on the lowest it may use. Returns the processor, or None where there
    is one only or no affinity to set (not Linux)."""
    import os

    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2:
        return None
    try:  # field 39 of /proc/…/stat: the processor it last ran on
        with open("/proc/thread-self/stat") as stat:
            cpu = int(stat.read().rsplit(")", 1)[1].split()[36])
    except (OSError, ValueError, IndexError):
        cpu = min(allowed)
    if cpu not in allowed:
        cpu = min(allowed)
    try:
        threads = [int(thread) for thread in os.listdir("/proc/self/task")]
    except OSError:  # no /proc (a chroot, a sandbox): the calling thread, whose later
        threads = [0]  # threads (the event loop's workers) inherit its processor
    for thread in threads:
        with contextlib.suppress(OSError):  # a thread that has just ended
            os.sched_setaffinity(thread, {cpu})
    return cpu


class Server:
    """The application and what it keeps between requests: the key its bearer tokens are
    signed with, the rate counters and the short caches of verified and of refused
    ``cpro-account`` headers (nothing of the store)."""

    def __init__(
        self,
        settings: Settings,
        rate: int = RATE,
        clock: Clock | None = None,
        audit_every: float = journal.EVERY,
        journal_process: bool = False,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()  # the demo's moves with its story
        self.lang = settings.lang or "fr"
        self.rate = Rate(rate)
        self.callers: Callers[tuple[int, str]] = Callers()
        self.refusals: Callers[technical.Checked] = Callers(REFUSAL_SECONDS)
        self._verifying = [threading.Lock() for _ in range(64)]
        self._threads: Any = None  # the requests' worker threads (made on first use)
        self.tokens = api_clients.Tokens()
        self.reads = Reads(settings.database_url)
        # TECH-2: the calls' audit rows and last-use times, written in batches (no write
        # transaction per request), by a process of their own for `chorus serve`
        # (``journal_process``); ``close`` writes the rest.
        self._journal_said = -3600.0  # when a failed batch was last said (monotonic)
        self.journal = journal.Journal(
            settings.database_url,
            every=audit_every,
            failed=self._journal_failed,
            process=journal_process,
        )

    def _journal_failed(self, error: Exception, waiting: int) -> None:
        """Said once in a while (the journal tries again every interval), not each time."""
        now = time.monotonic()
        if now - self._journal_said < 10:
            return
        self._journal_said = now
        text = i18n.message("tech2.journal_retry", self.lang, count=waiting)
        print(f"{text} ({type(error).__name__})", file=sys.stderr, flush=True)

    def close(self) -> None:
        """Write the audit rows still waiting (the server has stopped answering)."""
        if self._threads is not None:
            self._threads.shutdown()
        self.reads.close()
        try:
            self.journal.close()
        except Exception as error:
            waiting = self.journal.pending()
            text = i18n.message("tech2.journal_lost", self.lang, count=waiting)
            kind = error.kind if isinstance(error, journal.Refused) else type(error).__name__
            print(f"{text} ({kind})", file=sys.stderr, flush=True)

    def settle(self) -> None:
        """What every request needs, loaded before the first one (the models, their
        mappers, the store's engine), then left alone by the interpreter's collector
        (``gc.freeze``): a full collection looks only at what came after. Measured
        before: under load, pauses of 20 to 110 ms every few seconds, each a tail."""
        import gc

        from sqlalchemy.orm import configure_mappers

        from chorus_cli.store import models  # noqa: F401  (the mappers to configure)

        configure_mappers()
        self.reads.engine  # noqa: B018  (made, and the store checked, now)
        gc.collect()
        gc.freeze()

    # --- one unit of work per request ---------------------------------------------------

    def _call(
        self,
        use_case: Callable[..., dict[str, Any]],
        token: str,
        account_header: str,
        body: Any,
        seen: dict[str, str],
        key: str,
        budget: float | None = None,
    ) -> dict[str, Any]:
        """A request's unit of work: the bearer token, the technical account (verified a
        moment ago, else now), the use case. ``key``: the SHA-256 of the header;
        ``budget``: the seconds its reads may take (``store.reads.OverBudget``), on the
        event loop, which never verifies a header (Argon2, or waiting for another
        request's verification of it): ``OverBudget`` there too, for a worker thread."""
        known = self.callers.get(key)
        if known is not None:
            try:
                return self._attempt(use_case, token, body, seen, known, budget)
            except Stale:
                self.callers.forget(key)  # verified again: a reset password is refused then
                if budget is not None:
                    raise OverBudget() from None
        elif budget is not None:  # not remembered (new, its minute over, or the cache full)
            raise OverBudget()
        # One verification of a header at a time: the calls that bring it meanwhile wait
        # for it and use its result (one Argon2, and one rehash, not one each).
        with self._verifying[int(key[:8], 16) % len(self._verifying)]:
            known = self.callers.get(key) or self._verify(token, account_header, key, seen)
        return self._attempt(use_case, token, body, seen, known, None)

    def _attempt(
        self,
        use_case: Callable[..., dict[str, Any]],
        token: str,
        body: Any,
        seen: dict[str, str],
        known: tuple[int, str],
        budget: float | None,
    ) -> dict[str, Any]:
        """The unit of work of a call by the account ``known`` (its id and password
        hash); one whose hash has changed since: :class:`Stale`."""
        # A read: on SQLite a plain BEGIN (a snapshot, no write lock), rolled back at the
        # end; the use is recorded in the journal (TECH-2). The use cases that read rows
        # only do so with statements compiled once (``store.reads``).
        light = use_case in integration.ROWS_ONLY
        if light:
            unit: Any = self.reads.unit(self.clock, self.journal, budget)
        else:
            unit = UnitOfWork(self.settings, self.clock, journal=self.journal)
        with unit as uow:
            if not light:
                uow.reading()
            seen["client"], account = integration.who_calls(uow, self.tokens, token, known[0])
            try:
                caller = integration.verified(uow, account, known[1])
            except technical.TechnicalRefused:
                raise Stale() from None
            return use_case(uow, caller, body)

    def _verify(
        self, token: str, account_header: str, key: str, seen: dict[str, str]
    ) -> tuple[int, str]:
        """The bearer token, then the ``cpro-account``'s password (Argon2, in a unit of
        work of its own: a rehash at current parameters is written), remembered: the
        account's id and password hash. Refused (unknown login or wrong password), the
        refusal is remembered with what it was checked against; while that stands
        (``technical.refused_again``, a read, no Argon2, no write lock) the header is
        refused as the first time (same envelope, same log line)."""
        refused = self.refusals.get(key)
        if refused is not None:
            with UnitOfWork(self.settings, self.clock) as uow:
                uow.reading()
                seen["client"] = self.tokens.check(uow, token).name
                login, _password = _credentials(account_header)
                technical.refused_again(uow, login, refused)
            self.refusals.forget(key)  # its account changed: verified again
        try:
            with UnitOfWork(self.settings, self.clock) as uow:
                seen["client"] = self.tokens.check(uow, token).name
                login, password = _credentials(account_header)
                caller = technical.authenticate(uow, login, password)
                uow.commit()
        except technical.TechnicalRefused as refusal:
            if refusal.checked is not None:
                self.refusals.put(key, refusal.checked)
            raise
        known = caller.id, caller.password_hash
        self.callers.put(key, known)  # type: ignore[arg-type]
        return known  # type: ignore[return-value]

    def _token(self, body: bytes, authorization: str | None, seen: dict[str, str]) -> Any:
        form = {k: v[0] for k, v in parse_qs(body.decode("latin-1")).items()}
        if form.get("grant_type") != "client_credentials":
            raise Refused(400, "api2.grant_type")
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        scheme, _, basic = (authorization or "").partition(" ")
        if scheme.lower() == "basic" and not client_id:
            try:
                client_id, _, secret = base64.b64decode(basic).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise Refused(401, "api2.client_refused") from None
        with UnitOfWork(self.settings, self.clock) as uow:
            client = api_clients.verify(uow, client_id, secret)
            seen["client"] = client.name
            issued = self.tokens.issue(uow, client)
            uow.commit()
        return issued.view()

    def _inline(self, use_case: Callable[..., Any]) -> bool:
        """Whether a call is served on the event loop first, not in a worker thread: on
        SQLite, the calls that read rows only (searches, the health check), within
        ``INLINE_BUDGET``. The thread hop, and the interpreter's lock passed between
        threads, cost more than such a read (measured: a search by name 1,900 requests a
        second on the loop, 940 in threads). PostgreSQL answers over a socket: in a
        thread (on the loop, p99 over a second, measured)."""
        return self.reads.sqlite and use_case in integration.ROWS_ONLY

    # --- the endpoints --------------------------------------------------------------------

    async def _in_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function`` in a worker thread, at most ``THREADS`` at once: the units of work
        are short, and more threads than that only take the interpreter's lock in turns
        (measured: fewer threads, a shorter tail at 50 concurrent clients). The event
        loop's own executor, lighter than anyio's threads (measured: 1.3× the requests a
        second)."""
        import asyncio

        if self._threads is None:
            from concurrent.futures import ThreadPoolExecutor

            self._threads = ThreadPoolExecutor(THREADS, thread_name_prefix="chorus-serve")
        return await asyncio.get_running_loop().run_in_executor(self._threads, function, *args)

    async def _body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            raise Refused(413, "api3.too_large", max=MAX_BODY)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise Refused(413, "api3.too_large", max=MAX_BODY)
            chunks.append(chunk)
        return b"".join(chunks)

    def _limit(self, request: Request) -> None:
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        client = self.tokens.client_of(token.strip()) if scheme.lower() == "bearer" else None
        who = f"client {client}" if client else (request.client.host if request.client else "?")
        if not self.rate.allow(who):
            raise Refused(429, "api3.too_many", rate=self.rate.per_second)

    def endpoint(self, use_case: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
        async def answer(request: Request) -> Response:
            seen: dict[str, str] = {}
            request.state.seen = seen
            try:
                self._limit(request)
                raw = await self._body(request)
                body: Any = {}
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except (ValueError, UnicodeDecodeError):
                        raise Refused(400, "api1.json") from None
                token = _bearer(request.headers.get("authorization"))
                header = request.headers.get("cpro-account")
                if not header:
                    raise Refused(401, "api2.cpro_account")
                key = hashlib.sha256(header.encode()).hexdigest()
                shown = None
                if self._inline(use_case):
                    # A verified caller's read on the event loop, in a plain read
                    # transaction ended before the answer is sent; stopped past its
                    # budget, or a caller to verify, run in a thread (OverBudget).
                    with contextlib.suppress(OverBudget):
                        shown = self._call(use_case, token, header, body, seen, key, INLINE_BUDGET)
                if shown is None:
                    shown = await self._in_thread(
                        self._call, use_case, token, header, body, seen, key
                    )
            except Refused as refused:
                return envelope(self.lang, refused.status, refused.key, **refused.params)
            except ChorusError as error:
                return envelope(self.lang, status_of(error), error.key, **error.params)
            return JSONResponse({"codeRetour": 0, "libelle": OK, **shown})

        return answer

    async def token(self, request: Request) -> Response:
        seen: dict[str, str] = {}
        request.state.seen = seen
        try:
            self._limit(request)
            raw = await self._body(request)
            shown = await self._in_thread(
                self._token, raw, request.headers.get("authorization"), seen
            )
        except Refused as refused:
            code = "invalid_client" if refused.status == 401 else "invalid_request"
            if refused.key == "api2.grant_type":
                code = "unsupported_grant_type"
            return self._oauth_error(refused.status, code, refused.key, refused.params)
        except ChorusError as error:
            return self._oauth_error(status_of(error), "invalid_client", error.key, error.params)
        return JSONResponse(shown, headers={"Cache-Control": "no-store"})

    def _oauth_error(self, status: int, code: str, key: str, params: dict) -> JSONResponse:
        text = i18n.message(key, self.lang, **params)
        headers = {"Cache-Control": "no-store"}
        if status == 429:
            headers["Retry-After"] = "1"
        return JSONResponse(
            {"error": code, "error_description": text}, status_code=status, headers=headers
        )

    async def description(self, request: Request) -> Response:
        from importlib.resources import files

        text = files("chorus_cli.api").joinpath("openapi.json").read_text(encoding="utf-8")
        return Response(text, media_type="application/json")

    def app(self, log: bool = True) -> Starlette:
        """The ASGI application; ``log``: one line per request on stderr."""
        structures = "/cpro/structures/v1"
        calls = {
            f"{structures}/rechercher": integration.search_structures,
            f"{structures}/consulter": integration.show_structure,
            f"{structures}/rechercher/services": integration.search_services,
            f"{structures}/consulter/service": integration.show_service,
            f"{structures}/lister/rattachementsutilisateur": integration.user_attachments,
            "/cpro/utilisateurs/v1/monCompte/recuperer/rattachements": (
                integration.own_attachments
            ),
        }
        routes = [
            Route("/api/oauth/token", self.token, methods=["POST"]),
            Route("/openapi.json", self.description, methods=["GET"]),
            *(Route(path, self.endpoint(call), methods=["POST"]) for path, call in calls.items()),
            Route(
                "/cpro/transverses/v1/health-check",
                self.endpoint(integration.health),
                methods=["GET", "POST"],
            ),
        ]
        lang = self.lang

        async def http_error(request: Request, exc: Exception) -> Response:
            status = exc.status_code if isinstance(exc, HTTPException) else 500
            key = {404: "api1.no_such_path", 405: "api1.method"}.get(status, "api1.internal")
            return envelope(lang, status, key)

        async def server_error(request: Request, exc: Exception) -> Response:
            return envelope(lang, 500, "api1.internal")

        self.journal.start()
        app = Starlette(
            routes=routes,
            exception_handlers={HTTPException: http_error, Exception: server_error},
        )
        return Logged(app, log)  # type: ignore[return-value]


class Logged:
    """One line on stderr per request: method, path, status, ms, client (API-1); an
    unexpected failure becomes the 500 envelope (its type named in the log, not its
    text, which may hold data)."""

    def __init__(self, app: Any, log: bool = True) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]
        scope.setdefault("state", {})

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        failure = ""
        try:
            await self.app(scope, receive, sending)
        except Exception as error:  # already answered by the 500 handler
            failure = f" ({type(error).__name__})"
        if not self.log:
            return
        ms = (time.perf_counter() - start) * 1000
        seen = scope["state"].get("seen") or {}
        client = seen.get("client", "-")
        line = f"{scope['method']} {scope['path']} {status[0]} {ms:.0f} ms {client}{failure}"
        print(line, file=sys.stderr, flush=True)
