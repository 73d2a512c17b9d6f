"""``python -m bench``: run the scenarios against Quire and the peers, print a table, save JSON."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import postgres, report
from .runner import LoadError, run_load
from .scenarios import EVERY_ROUND, FULL, SCENARIOS, TIMEOUT, TINY, load_config, room_count
from .servers import BENCH, DEFAULT_SERVERS, QUIRE, QUIRE_BENCH_ENV, QUIRE_SERVERS, SERVERS, launch


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="seconds-long smoke sizes")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--servers", default=",".join(DEFAULT_SERVERS),
                        help=f"comma-separated subset of {','.join(SERVERS)} "
                             f"(default {','.join(DEFAULT_SERVERS)})")
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds of fanout, throughput and connections (default 3, 1 with --tiny)")
    parser.add_argument("--out", type=Path, default=BENCH / "results", help="results folder")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when any run fails, peers included (default: Quire only)")
    args = parser.parse_args(argv)
    args.scenarios = _subset(parser, args.scenarios, SCENARIOS)
    args.servers = _subset(parser, args.servers, tuple(SERVERS))
    return args


def _subset(parser: argparse.ArgumentParser, value: str, allowed: tuple[str, ...]) -> list[str]:
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    unknown = set(chosen) - set(allowed)
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))} (choose from {', '.join(allowed)})")
    return [v for v in allowed if v in chosen]


def preflight(servers: list[str]) -> None:
    problems = []
    if shutil.which("node") is None:
        problems.append("node is not installed")
    if not (BENCH / "node_modules" / "y-websocket").is_dir():
        problems.append("bench/node_modules is missing: run `make node`")
    if any(s in QUIRE_SERVERS for s in servers) and not QUIRE.exists():
        problems.append(f"{QUIRE} is missing: run `make install`")
    if "quire-pg" in servers and not postgres.available():
        problems.append("PostgreSQL is not reachable at 127.0.0.1:5432: run `make services`")
    if problems:
        sys.exit("bench: " + "; ".join(problems))


def plan(scenarios: list[str], servers: list[str], rounds: int) -> list[tuple[int, str, str]]:
    """(round, scenario, server), servers alternating and rotated every round."""
    steps = []
    for r in range(rounds):
        order = servers[r % len(servers):] + servers[:r % len(servers)]
        for scenario in scenarios:
            if r == 0 or scenario in EVERY_ROUND:
                steps.extend((r, scenario, server) for server in order)
    return steps


def run_one(round_: int, scenario: str, key: str, sizes: dict[str, Any],
            workdir: Path) -> dict[str, Any]:
    label = f"r{round_}-{scenario}"
    record: dict[str, Any] = {"round": round_, "scenario": scenario, "server": key}
    phases: dict[str, float] = {}
    started = mark = time.monotonic()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        phases[name] = round(now - mark, 2)
        mark = now

    try:
        with launch(key, workdir, label) as server:
            phase("start")
            rooms = server.rooms(room_count(scenario, sizes))
            phase("rooms")
            # a smoke run measures nothing: a quarter second of quiet is enough there
            server.settle(window=1.0 if sizes is FULL else 0.25)
            phase("settle")
            config = load_config(scenario, sizes, server, rooms)
            result = run_load(config, server, timeout=TIMEOUT[scenario],
                              log_path=workdir / f"{label}.{key}.load.log")
            phase("load")
        phase("stop")
        record.update(result)
    except (LoadError, RuntimeError, OSError) as error:
        record["error"] = str(error).splitlines()[0] if str(error) else repr(error)
    record["phases"] = phases
    record["seconds"] = round(time.monotonic() - started, 2)
    return record


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    preflight(args.servers)
    size = "tiny" if args.tiny else "full"
    sizes = TINY if args.tiny else FULL
    rounds = args.rounds or (1 if args.tiny else 3)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = args.out / "logs" / f"{stamp}-{size}"
    workdir.mkdir(parents=True, exist_ok=True)

    steps = plan(args.scenarios, args.servers, rounds)
    load_before = os.getloadavg()
    runs = []
    suite_start = time.monotonic()
    for i, (round_, scenario, key) in enumerate(steps, 1):
        record = run_one(round_, scenario, key, sizes, workdir)
        runs.append(record)
        status = "error: " + record["error"] if "error" in record else (
            "ok" if record.get("identical") and not record.get("errors") else "CHECK FAILED")
        print(f"[{i}/{len(steps)}] {scenario:<11} {key:<18} {record['seconds']:6.1f}s  {status}",
              file=sys.stderr, flush=True)

    meta = {
        "date": stamp, "size": size, "rounds": rounds, "scenarios": args.scenarios,
        "servers": {key: SERVERS[key] for key in args.servers}, "sizes": sizes,
        "quire_env": QUIRE_BENCH_ENV,
        "cpus": os.cpu_count(), "python": platform.python_version(),
        # Other work on the machine skews every figure: keep the load average with them.
        "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
        "suite_seconds": round(time.monotonic() - suite_start, 1), "logs": str(workdir),
    }
    out = args.out / f"{stamp}-{size}.json"
    report.write_json(out, meta, runs)
    (args.out / f"latest-{size}.json").write_text(out.read_text())
    print(report.table(runs))
    problems = report.checks(runs)
    for problem in problems:
        print(f"PROBLEM {problem}")
    print(f"\n{len(runs)} runs in {meta['suite_seconds']} s; JSON: {out}")
    failed = [p for p in problems if args.strict or any(f"/ {q} " in p for q in QUIRE_SERVERS)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
