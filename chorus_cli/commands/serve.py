"""chorus serve: the local Chorus Pro API for integrators (API-1..3)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chorus_cli.commands._common import STATE
from chorus_cli.kernel.errors import BadInput


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
    ] = 50,
    audit_every: Annotated[
        float,
        typer.Option(
            "--audit-every",
            min=0.001,
            max=3600,
            help="Seconds the calls' audit rows may wait to be written together (TECH-2).",
        ),
    ] = 0.05,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=16,
            help="Processes answering on the one port (tokens and --rate hold across them).",
        ),
    ] = 1,
) -> None:
    """Serve the store as the Chorus Pro API an integration calls (API-1): the
    Structures paths, «Mon compte» attachments, health-check and POST /api/oauth/token,
    with AIFE's field names. Every call needs a bearer token of a registered client
    (chorus api client add) and a cpro-account header naming a technical account
    (chorus account technical create). Logs one line per request on stderr; Ctrl-C stops.

    Example: chorus serve --port 8080
    """
    from chorus_cli.domain.integration import check_listening

    check_listening(host, tls_cert is not None, tls_key is not None, behind_proxy)
    import asyncio
    import contextlib
    import os
    import signal
    import sys
    import threading
    from collections.abc import Iterator

    import uvicorn

    from chorus_cli.api.app import Server
    from chorus_cli.i18n import message

    workers = workers if hasattr(os, "fork") else 1  # one process where there is no fork
    served = Server(STATE.settings, rate, audit_every=audit_every, processes=workers)
    if workers > 1:
        _serve_forked(served, workers, host, port, tls_cert, tls_key, behind_proxy)
        return
    app = served.app()
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
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
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


def _loop_factory():  # type: ignore[no-untyped-def]
    """uvloop's event loop where it is installed (not on Windows), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _config(app: object, host: str, port: int, tls_cert, tls_key, behind_proxy: bool):  # type: ignore[no-untyped-def]
    import uvicorn

    return uvicorn.Config(
        app,  # type: ignore[arg-type]
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


def _serve_forked(
    served, workers: int, host: str, port: int, tls_cert, tls_key, behind_proxy: bool
) -> None:  # type: ignore[no-untyped-def]
    """``--workers N``: the port bound here, then N processes forked to answer on it.
    What they share they get by the fork, never through argv or the environment: the
    key tokens are signed with, and the per-client rate's counters (shared memory).
    Each has its own short cache of verified accounts and its own journal, written
    when it stops. Ctrl-C (or SIGTERM to this process) stops them all cleanly."""
    import asyncio
    import contextlib
    import os
    import signal
    import sys

    import uvicorn

    from chorus_cli.i18n import message
    from chorus_cli.store import engine as engine_module

    config = _config(None, host, port, tls_cert, tls_key, behind_proxy)
    try:
        sock = config.bind_socket()
    except SystemExit:  # uvicorn said why on stderr
        raise BadInput("api3.cannot_listen", host=host, port=port) from None
    bound = sock.getsockname()
    shown = f"[{bound[0]}]" if ":" in str(bound[0]) else bound[0]
    scheme = "https" if tls_cert else "http"
    engine_module.dispose_all()  # no connection crosses the fork
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker
            code = 1
            try:
                app = served.app()

                class Worker(uvicorn.Server):
                    @contextlib.contextmanager
                    def capture_signals(self):  # type: ignore[no-untyped-def]
                        stops = (signal.SIGINT, signal.SIGTERM)
                        before = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
                        try:
                            yield
                        finally:
                            for sig, handler in before.items():
                                signal.signal(sig, handler)

                server = Worker(_config(app, host, port, tls_cert, tls_key, behind_proxy))
                with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                    runner.run(server.serve(sockets=[sock]))
                code = 0
            finally:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                try:
                    served.close()
                finally:
                    sys.stderr.flush()
                    os._exit(code)
        children.append(pid)
    sock.close()
    print(
        message("serve.listening", url=f"{scheme}://{shown}:{bound[1]}"),
        file=sys.stderr,
        flush=True,
    )

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    before = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        codes = [os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) for child in children]
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
    print(message("serve.stopped"), file=sys.stderr, flush=True)
    if any(codes):
        raise SystemExit(1)
