"""Run ``chorus`` in several forked processes released at the same moment (races)."""

from __future__ import annotations

import os
import sys

from chorus_cli.store import engine as engine_module


def _cli_in_child(env, argv, stdin, barrier, results) -> None:
    """One forked ``chorus ARGV`` with STDIN piped, started on a barrier with the others.

    The fork inherits the test's in-memory keyring, so a pending login attempt too.
    """
    import io
    import traceback

    from chorus_cli.cli import main

    code, err = None, ""
    try:
        for engine in engine_module._engines.values():
            engine.dispose(close=False)  # the parent's connections are not ours to use
        engine_module._engines.clear()
        os.environ.update(env, CHORUS_LANG="fr")
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), io.StringIO(), io.StringIO()
        barrier.wait(timeout=30)
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code
        err = sys.stderr.getvalue()
        engine_module.dispose_all()
    except BaseException:
        err += traceback.format_exc()
    results.put((code, err))


def concurrently(cli, n: int, argv: list[str], stdin: str) -> list[tuple[int, str]]:
    """Run ``chorus ARGV`` in N forked processes released at once; their exit codes, stderr."""
    return together(cli, [argv] * n, stdin)


def together(cli, argvs: list[list[str]], stdin: str = "") -> list[tuple[int, str]]:
    """Run each ``chorus ARGV`` in its own forked process, all released at once; their exit
    codes and stderr, in the order they finished."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(len(argvs)), context.Queue()
    procs = [
        context.Process(target=_cli_in_child, args=(cli.env, argv, stdin, barrier, results))
        for argv in argvs
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    return outcomes
