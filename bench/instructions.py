"""``python -m bench.instructions``: the instructions a server runs for each document opened.

Seconds on this VM drift by a third between runs minutes apart (BENCHMARKS.md), so a change
worth 2 % of the open rate cannot be seen on the wall clock. Instructions can: each server runs
under callgrind (valgrind's instruction counter, ``--instr-atstart=no``), its documents are made
and the server left to settle uninstrumented, then counting is switched on while the same Node
client as ``manydocs`` (``bench/js/open_held.mjs``) opens ``--docs`` documents, one client
each, 50 handshakes in flight, and switched off once all are synced. The same code gives the
same count to within about half a per cent, whatever else the machine is doing.

What it counts: instructions run in the server's own process, in user space (every thread),
per document opened. Not counted: the kernel's share (the socket system calls), and for
``quire-pg`` PostgreSQL's own processes. Under callgrind a server runs some 50 times slower
while the client runs at full speed, so handshakes pile up and share opener visits differently
than at full speed: compare counts with each other, not with seconds. Reports Ir per document and ratios to the floor, and writes
``bench/results/instructions-latest.json``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench import postgres, report
from bench.holding import open_held
from bench.servers import launch

# Not the Node reference: callgrind's commands never reached an idle Node process here (its
# dump stayed empty), so there is no count to set beside Quire's
SERVERS = ("quire-sqlite", "quire-pg", "floor")


def _callgrind_totals(out: Path) -> int:
    """Instructions in the dumps callgrind wrote while counting was on."""
    total = 0
    for dump in out.parent.glob(out.name + "*"):
        for line in dump.read_text(errors="replace").splitlines():
            if line.startswith("totals:"):
                total += int(line.split()[1])
    return total


def _control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], check=True, capture_output=True, timeout=120)


def count(key: str, docs: int, workdir: Path) -> dict[str, float]:
    out = workdir / f"callgrind.{key}"
    wrap = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--smc-check=all-non-file",
            f"--callgrind-out-file={out}.%p"]
    with launch(key, workdir, "instructions", wrap=wrap, start_timeout=300) as server:
        rooms = server.rooms(docs)
        server.settle(timeout=120)
        _control("--instr=on", str(server.pid))

        def stop_counting() -> None:
            _control("--instr=off", str(server.pid))
            _control("--dump", str(server.pid))

        open_held(server, rooms, stop_counting)
    instructions = _callgrind_totals(out)
    if not instructions:
        raise RuntimeError(f"{key}: callgrind counted nothing")
    return {"instructions_per_doc": round(instructions / docs), "docs": docs}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions")
    parser.add_argument("--docs", type=int, default=200, help="documents opened per server")
    parser.add_argument("--servers", default=",".join(SERVERS),
                        help=f"some of {', '.join(SERVERS)}")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("instructions skipped: valgrind is not installed (apt-get install valgrind)")
        return {}
    found: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="quire-instructions-") as tmp:
        for key in args.servers.split(","):
            if key not in SERVERS:
                parser.error(f"unknown server {key!r}")
            if key == "quire-pg" and not postgres.available():
                print("quire-pg skipped: PostgreSQL not reachable at 127.0.0.1:5432")
                continue
            found[key] = count(key, args.docs, Path(tmp))
    floor = found.get("floor", {}).get("instructions_per_doc")
    for key, figures in found.items():
        ratio = f" ({figures['instructions_per_doc'] / floor:.2f}x the floor)" if floor else ""
        print(f"{key}: {figures['instructions_per_doc'] / 1e6:.3f} M instructions per document "
              f"opened{ratio}")
    report.write_latest(args.out, "instructions", found)
    return found


if __name__ == "__main__":
    main()
