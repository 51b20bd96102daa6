"""The Autobahn WebSocket conformance suite, through ``kosoku``, against treadle.

For each backend (asyncio, uvloop, trio) this runs:

- **server**: a treadle echo server (``WebSocketResponse``) in a subprocess, driven by
  kosoku's fuzzing client;
- **client**: a treadle echo client (``ws_connect``) in a subprocess, driven by
  kosoku's fuzzing server (the Autobahn ``getCaseCount`` / ``runCase`` /
  ``updateReports`` protocol).

It prints, per backend and side, how many cases were OK / NON-STRICT / INFORMATIONAL /
UNIMPLEMENTED / FAILED, and the ids of the failed ones; the exit status is 1 when any
case FAILED. Usage::

    python conformance/run.py                      # everything
    python conformance/run.py --cases '1.*' --cases '7.*' --backend asyncio --side server
    python conformance/run.py --exclude '9.*'      # skip the slow performance section

``--report DIR`` also writes kosoku's Autobahn-style HTML/JSON reports.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BACKENDS = ("asyncio", "uvloop", "trio")
SIDES = ("server", "client")
VERDICTS = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
#: Closing-handshake verdicts that make a case FAILED even when its messages were right.
_BAD_CLOSE = ("FAILED", "WRONG CODE", "UNCLEAN", "FAILED BY CLIENT")
_ROOT = Path(__file__).resolve().parent.parent
_AGENT = "treadle"


@dataclass
class Outcome:
    """The verdicts of one run (one backend, one side)."""

    backend: str
    side: str
    counts: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)
    lenient: list[str] = field(default_factory=list)  # NON-STRICT and UNIMPLEMENTED ids
    error: str | None = None

    def line(self) -> str:
        counts = "  ".join(f"{name} {self.counts.get(name, 0):4d}" for name in VERDICTS)
        text = f"{self.backend:8s} {self.side:6s}  {counts}"
        if self.error:
            text += f"\n    error: {self.error}"
        if self.lenient:
            text += "\n    non-strict/unimplemented: " + " ".join(self.lenient)
        if self.failed:
            text += "\n    failed: " + " ".join(self.failed)
        return text


def verdict(result: Any) -> str:
    """A case's overall verdict: its message behaviour, FAILED if the close went wrong."""
    behavior: str = result.behavior.value
    if behavior == "ERROR":
        return "FAILED"
    if result.behavior_close.value in _BAD_CLOSE and behavior != "UNIMPLEMENTED":
        return "FAILED"
    return behavior


def summarize(backend: str, side: str, results: Sequence[Any]) -> Outcome:
    outcome = Outcome(backend, side)
    for result in results:
        name = verdict(result)
        outcome.counts[name] += 1
        if name == "FAILED":
            outcome.failed.append(
                f"{result.case_id}({result.behavior.value}/{result.behavior_close.value})"
            )
        elif name in ("NON-STRICT", "UNIMPLEMENTED"):
            outcome.lenient.append(result.case_id)
    return outcome


# -- the peers under test (run in a subprocess, on the chosen backend) -------------------------


def serve_echo(backend: str) -> None:
    """A treadle echo server on an ephemeral port; prints ``PORT <n>`` and serves forever."""
    from treadle import web
    from treadle.backends import get_backend, run

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, compress=True)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == web.WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/", echo)
        app.router.add_get("/{tail:.*}", echo)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(f"PORT {runner.addresses[0][1]}", flush=True)
        while True:
            await get_backend().sleep(3600)

    run(main, backend=backend)


def run_echo_client(backend: str, url: str) -> None:
    """The Autobahn client protocol with treadle's ``ws_connect``: run every case."""
    import treadle
    from treadle.backends import run

    async def main() -> None:
        async with treadle.ClientSession() as session:
            async with session.ws_connect(f"{url}/getCaseCount") as ws:
                count = int(await ws.receive_str())
            for case in range(1, count + 1):
                target = f"{url}/runCase?case={case}&agent={_AGENT}"
                try:
                    async with session.ws_connect(
                        target, compress=15, client_notakeover=True, max_msg_size=0
                    ) as ws:
                        async for msg in ws:
                            if msg.type == treadle.WSMsgType.TEXT:
                                await ws.send_str(msg.data)
                            elif msg.type == treadle.WSMsgType.BINARY:
                                await ws.send_bytes(msg.data)
                            else:
                                break
                except ConnectionResetError:
                    pass  # the case failed the connection while we echoed: expected
                except (treadle.ClientError, ConnectionError, TimeoutError) as exc:
                    print(f"case {case}: {exc!r}", file=sys.stderr)
            async with session.ws_connect(f"{url}/updateReports?agent={_AGENT}") as ws:
                await ws.receive()

    run(main, backend=backend)


# -- driving kosoku -------------------------------------------------------------------------


def _child(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT / "src"), env.get("PYTHONPATH")]))
    return env


async def run_server_side(
    backend: str, cases: list[str] | None, exclude: list[str] | None, parallelism: int
) -> list[Any]:
    from kosoku import FailureError, run_fuzzingclient

    proc = subprocess.Popen(
        _child("_serve", backend), stdout=subprocess.PIPE, text=True, env=_env()
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.to_thread(proc.stdout.readline)
        if not line.startswith("PORT "):
            raise RuntimeError(f"the echo server did not start: {line!r}")
        port = int(line.split()[1])
        try:
            return list(
                await run_fuzzingclient(
                    f"ws://127.0.0.1:{port}", cases, exclude, concurrency=parallelism
                )
            )
        except FailureError as failure:
            return list(failure.results)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def run_client_side(
    backend: str, cases: list[str] | None, exclude: list[str] | None, timeout: float
) -> list[Any]:
    from kosoku import FailureError, run_fuzzingserver

    async with run_fuzzingserver(cases, exclude, host="127.0.0.1", port=0) as server:
        url = f"ws://127.0.0.1:{server.port}"
        proc = await asyncio.create_subprocess_exec(*_child("_client", backend, url), env=_env())
        try:
            try:
                results = list(await asyncio.wait_for(server.get_result(), timeout))
            except FailureError as failure:
                results = list(failure.results)
        finally:
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
    return results


async def run_all(args: argparse.Namespace) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for backend in args.backend or BACKENDS:
        for side in args.side or SIDES:
            print(f"-- {side} on {backend} ...", file=sys.stderr, flush=True)
            try:
                if side == "server":
                    results = await run_server_side(
                        backend, args.cases, args.exclude, args.parallelism
                    )
                else:
                    results = await run_client_side(backend, args.cases, args.exclude, args.timeout)
            except Exception as exc:  # a run that could not finish counts as failed
                outcome = Outcome(backend, side, error=repr(exc))
                outcomes.append(outcome)
                continue
            if args.report:
                from kosoku._report import write_reports

                write_reports(results, str(Path(args.report) / f"{side}s-{backend}"))
            outcomes.append(summarize(backend, side, results))
    return outcomes


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", action="append", choices=BACKENDS)
    parser.add_argument("--side", action="append", choices=SIDES)
    parser.add_argument("--cases", action="append", metavar="GLOB", help="e.g. '1.*' (repeat)")
    parser.add_argument("--exclude", action="append", metavar="GLOB")
    parser.add_argument("--parallelism", type=int, default=2, help="server side only")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per client-side run")
    parser.add_argument("--report", metavar="DIR", help="write kosoku's reports there")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_serve"]:
        serve_echo(argv[1])
        return 0
    if argv[:1] == ["_client"]:
        run_echo_client(argv[1], argv[2])
        return 0
    args = parse_args(argv)
    outcomes = asyncio.run(run_all(args))
    for outcome in outcomes:
        print(outcome.line())
    bad = any(outcome.failed or outcome.error for outcome in outcomes)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
