"""Medians over the runs, the printed table (with Quire/peer ratios) and the JSON file."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from .scenarios import SCENARIOS
from .servers import QUIRE_SERVERS, SERVERS

SHORT = {"quire-sqlite": "Q-sqlite", "quire-pg": "Q-pg",
         "pycrdt-websocket": "pycrdt", "y-websocket-server": "y-ws", "floor": "floor",
         "floor-hold": "floor-hold"}


def medians(runs: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float | None]]]:
    """{scenario: {metric: {server: median over successful runs}}}, metrics in first-seen order."""
    values: dict[str, dict[str, dict[str, list[float]]]] = {}
    for run in runs:
        metrics = values.setdefault(run["scenario"], {})
        for metric, value in (run.get("metrics") or {}).items():
            bucket = metrics.setdefault(metric, {}).setdefault(run["server"], [])
            if value is not None:
                bucket.append(float(value))
    return {
        scenario: {metric: {server: statistics.median(v) if v else None
                            for server, v in by_server.items()}
                   for metric, by_server in metrics.items()}
        for scenario, metrics in values.items()
    }


def ratio_pairs(servers: list[str]) -> list[tuple[str, str]]:
    peers = [s for s in servers if s not in QUIRE_SERVERS]
    return [(q, p) for q in servers if q in QUIRE_SERVERS for p in peers]


def checks(runs: list[dict[str, Any]]) -> list[str]:
    """One line per failed run: an error, content that differs, or connection errors."""
    problems = []
    for run in runs:
        where = f"{run['scenario']} / {run['server']} (round {run['round']})"
        if run.get("error"):
            problems.append(f"{where}: {run['error']}")
        elif not run.get("identical"):
            problems.append(f"{where}: clients did not end with identical content")
        elif run.get("errors"):
            problems.append(f"{where}: {run['errors']} connection errors")
    return problems


def _fmt(value: float | None) -> str:
    if value is None:
        return "fail"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(runs: list[dict[str, Any]]) -> str:
    present = {run["server"] for run in runs}
    servers = [s for s in SERVERS if s in present]
    pairs = ratio_pairs(servers)
    header = ["scenario", "metric", *(SHORT[s] for s in servers),
              *(f"{SHORT[q]}/{SHORT[p]}" for q, p in pairs)]
    rows = [header]
    meds = medians(runs)
    for scenario in SCENARIOS:
        for metric, by_server in meds.get(scenario, {}).items():
            row = [scenario, metric, *(_fmt(by_server.get(s)) for s in servers)]
            for q, p in pairs:
                qv, pv = by_server.get(q), by_server.get(p)
                row.append(f"{qv / pv:.2f}" if qv is not None and pv else "-")
            rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i])
                       for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def write_json(path: Path, meta: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    present = [s for s in SERVERS if s in {run["server"] for run in runs}]
    meds = medians(runs)
    ratios = {
        f"{q}/{p}": {scenario: {metric: (v[q] / v[p] if v.get(q) is not None and v.get(p) else None)
                                for metric, v in metrics.items()}
                     for scenario, metrics in meds.items()}
        for q, p in ratio_pairs(present)
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "medians": meds, "ratios": ratios,
                                "problems": checks(runs), "runs": runs}, indent=2) + "\n")


def write_latest(out: str | Path, name: str, data: Any) -> Path:
    """`<out>/<name>-latest.json`: what one of the smaller benches (gate, search, access,
    pg_commit, instructions) found, for the next run to compare with."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-latest.json"
    path.write_text(json.dumps(data, indent=2))
    return path
