"""Run a Python program (``python -m bench.gc_timed SCRIPT ARGS...``) with its cycle collections
timed, for ``bench/collector.py``: SIGUSR1 starts counting afresh, SIGUSR2 writes what was
counted since (collections and seconds per generation) as JSON to ``$GC_TIMED_OUT``."""

from __future__ import annotations

import gc
import json
import os
import runpy
import signal
import sys
import time

counted: dict[str, list[float]] = {"collections": [0, 0, 0], "seconds": [0.0, 0.0, 0.0]}
_started = 0.0


def _timed(phase: str, info: dict) -> None:
    global _started
    if phase == "start":
        _started = time.perf_counter()
        return
    generation = info["generation"]
    counted["collections"][generation] += 1
    counted["seconds"][generation] += time.perf_counter() - _started


def _reset(*_: object) -> None:
    counted["collections"] = [0, 0, 0]
    counted["seconds"] = [0.0, 0.0, 0.0]


def _write(*_: object) -> None:
    with open(os.environ["GC_TIMED_OUT"], "w") as out:
        json.dump({**counted, "threshold": gc.get_threshold()}, out)


if __name__ == "__main__":
    gc.callbacks.append(_timed)
    signal.signal(signal.SIGUSR1, _reset)
    signal.signal(signal.SIGUSR2, _write)
    script, sys.argv = sys.argv[1], sys.argv[1:]
    runpy.run_path(script, run_name="__main__")
