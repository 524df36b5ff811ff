"""chorus serve: the local Chorus Pro API for integrators (API-1..3)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chorus_cli.commands._common import STATE
from chorus_cli.domain.serving import RATE
from chorus_cli.kernel.errors import BadInput
from chorus_cli.store.journal import EVERY


def serve(
    host: Annotated[
        str, typer.Option("--host", help="The address to listen on (loopback unless TLS).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="The port (0: any free one).")
    ] = 8080,
    tls_cert: Annotated[
        Path | None,
        typer.Option("--tls-cert", help="A PEM certificate chain: serve HTTPS (API-3)."),
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", help="The PEM private key of --tls-cert.")
    ] = None,
    behind_proxy: Annotated[
        bool,
        typer.Option(
            "--behind-proxy",
            help="A TLS proxy in front terminates HTTPS: allow a non-loopback address.",
        ),
    ] = False,
    rate: Annotated[
        int,
        typer.Option("--rate", min=1, max=100_000, help="Requests a second per client (API-3)."),
    ] = RATE,
    audit_every: Annotated[
        float,
        typer.Option(
            "--audit-every",
            min=0.001,
            max=3600,
            help="Seconds the calls' audit rows may wait to be written together (TECH-2).",
        ),
    ] = EVERY,
    all_cpus: Annotated[
        bool,
        typer.Option(
            "--all-cpus",
            help="Let the server's threads run on every processor (default: on one).",
        ),
    ] = False,
) -> None:
    """Serve the store as the Chorus Pro API an integration calls (API-1): the
    Structures paths, «Mon compte» attachments, health-check and POST /api/oauth/token,
    with AIFE's field names. Every call needs a bearer token of a registered client
    (chorus api client add) and a cpro-account header naming a technical account
    (chorus account technical create). Logs one line per request on stderr; Ctrl-C stops.
    Its threads run on one processor unless --all-cpus (the interpreter runs one at a
    time; spread over several, each hand-off wakes another processor).

    Example: chorus serve --port 8080
    """
    from chorus_cli.domain.integration import check_listening

    check_listening(host, tls_cert is not None, tls_key is not None, behind_proxy)
    import asyncio
    import contextlib
    import signal
    import sys
    import threading
    from collections.abc import Iterator

    import uvicorn

    from chorus_cli.api.app import Server, one_cpu
    from chorus_cli.i18n import message

    served = Server(STATE.settings, rate, audit_every=audit_every, journal_process=True)
    app = served.app()
    served.settle()
    if not all_cpus:
        one_cpu()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=behind_proxy,
        forwarded_allow_ips="*" if behind_proxy else None,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        lifespan="off",
    )
    scheme = "https" if tls_cert else "http"

    class Announced(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # Ctrl-C (or SIGTERM) stops the server cleanly: exit 0, not re-raised.
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            stops = (signal.SIGINT, signal.SIGTERM)
            before = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
            try:
                yield
            finally:
                for sig, handler in before.items():
                    signal.signal(sig, handler)

        async def startup(self, sockets: list | None = None) -> None:
            await super().startup(sockets)
            if self.should_exit:
                return
            bound = self.servers[0].sockets[0].getsockname() if self.servers else (host, port)
            shown = f"[{bound[0]}]" if ":" in str(bound[0]) else bound[0]
            url = f"{scheme}://{shown}:{bound[1]}"
            print(message("serve.listening", url=url), file=sys.stderr, flush=True)

    server = Announced(config)
    try:
        # asyncio's own event loop: it accepts every waiting connection at once, where
        # uvloop (libuv) accepts one a turn, so that, busy, 50 clients connecting together
        # waited up to half a second for their first answer (measured).
        with asyncio.Runner() as runner:
            runner.run(server.serve())
    finally:
        # The audit rows still waiting are written, a further Ctrl-C notwithstanding.
        ignored = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            served.close()
        finally:
            signal.signal(signal.SIGINT, ignored)
    if server.started:
        print(message("serve.stopped"), file=sys.stderr, flush=True)
    else:
        raise BadInput("api3.cannot_listen", host=host, port=port)
