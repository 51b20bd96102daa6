"""``make bench``: every benchmark in one run, printed as ratios against peers.

Each benchmark module exposes ``main()``; they run one after another on the same
machine state. In-process microbenchmarks are pinned to one core so the scheduler does
not move them mid-measurement (the machine has two; the other stays for the system).
"""

from __future__ import annotations

import datetime
import importlib
import os
import sys
from pathlib import Path

BENCHMARKS = ["protocol_cycle", "backends_pingpong", "client_get", "server_wrk", "ws_echo"]


def main() -> None:
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    today = datetime.date.today().isoformat()
    print(f"treadle benchmarks, {today}, Python {sys.version.split()[0]}")
    for name in BENCHMARKS:
        if not (here / f"{name}.py").exists():
            print(f"\n[{name}] not present, skipped")
            continue
        print(f"\n[{name}]")
        importlib.import_module(name).main()


if __name__ == "__main__":
    main()
