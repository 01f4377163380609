"""Benchmark helpers: timings are only ever reported as ratios to a baseline measured in the
same run, on the same server.

- ``best_time(fn, repeat)``: the fastest of ``repeat`` runs of ``fn``, in seconds.
- ``pgbench_tps(url, script, clients, seconds)``: transactions per second of a custom pgbench
  script (``-n``, no vacuum, ``-M prepared``), for concurrent throughput.
- ``report(name, ours, baseline, goal, higher_is_better)``: prints one line and appends it to
  ``dist/bench.txt``.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable

from .cluster import PG_BIN
from .migrate import ROOT

RESULTS = ROOT / "dist" / "bench.txt"


def best_time(fn: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def pgbench_tps(url: str, script: str, clients: int, seconds: int = 5,
                variables: dict[str, str] | None = None) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        cmd = [str(PG_BIN / "pgbench"), "-n", "-M", "prepared", "-c", str(clients),
               "-j", str(min(clients, 4)), "-T", str(seconds), "-f", path]
        for key, value in (variables or {}).items():
            cmd += ["-D", f"{key}={value}"]
        out = subprocess.run(cmd + [url], check=True, capture_output=True, text=True).stdout
    finally:
        Path(path).unlink()
    match = re.search(r"tps = ([0-9.]+)", out)
    if not match:
        raise RuntimeError(f"pgbench printed no tps:\n{out}")
    return float(match.group(1))


def report(name: str, ours: float, baseline: float, goal: float | None = None,
           higher_is_better: bool = False) -> float:
    """Prints ``name: ratio`` (ours / baseline) with the goal and whether it is met."""
    ratio = ours / baseline
    verdict = ""
    if goal is not None:
        met = ratio >= goal if higher_is_better else ratio <= goal
        verdict = f"  goal {'>=' if higher_is_better else '<='} {goal}: {'met' if met else 'NOT met'}"
    line = f"{name}: {ratio:.2f}{verdict}"
    print(line)
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a") as f:
        f.write(line + "\n")
    return ratio
