"""Benchmark helpers: timings are only ever reported as ratios to a baseline measured in the
same run, on the same server.

- ``best_time(fn, repeat)``: the fastest of ``repeat`` runs of ``fn``, in seconds.
- ``pgbench_tps(url, script, clients, seconds)``: transactions per second of a custom pgbench
  script (``-n``, no vacuum, ``-M prepared``), for concurrent throughput.
- ``report(name, ours, baseline, goal, higher_is_better, peer, group)``: prints one line and
  appends it to ``dist/bench.txt``, and the row with its raw numbers to ``dist/bench.json``.
- ``render_chart()``: draws ``dist/bench.json`` as ``dist/bench.png`` (run at the end of a
  pytest session that reported rows).

``make bench`` removes the three files first, so they hold one run.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable

from .cluster import PG_BIN
from .migrate import ROOT

RESULTS = ROOT / "dist" / "bench.txt"
RESULTS_JSON = ROOT / "dist" / "bench.json"
CHART = ROOT / "dist" / "bench.png"

_reported = False


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
        done = subprocess.run(cmd + [url], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed ({done.returncode}):\n{done.stderr[-3000:]}")
        out = done.stdout
    finally:
        Path(path).unlink()
    match = re.search(r"tps = ([0-9.]+)", out)
    if not match:
        raise RuntimeError(f"pgbench printed no tps:\n{out}")
    return float(match.group(1))


def report(name: str, ours: float, baseline: float, goal: float | None = None,
           higher_is_better: bool = False, peer: str | None = None,
           group: str | None = None, chart: bool = True) -> float:
    """Prints ``name: ratio`` (ours / baseline) with the goal and whether it is met, and records
    the row. ``peer``: the baseline is another system's way (its name); ``group``: rows drawn
    together in the chart (the same path measured against a baseline and peers); ``chart``:
    False for a row the chart shows already (a bound, drawn as a series of its path)."""
    global _reported
    ratio = ours / baseline
    verdict = ""
    met = None
    if goal is not None:
        met = ratio >= goal if higher_is_better else ratio <= goal
        verdict = f"  goal {'>=' if higher_is_better else '<='} {goal}: {'met' if met else 'NOT met'}"
    line = f"{name}: {ratio:.2f}{verdict}"
    print(line)
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a") as f:
        f.write(line + "\n")
    rows = _rows()
    rows.append({
        "name": name, "group": group or name, "ratio": ratio, "goal": goal,
        "direction": "higher is better" if higher_is_better else "lower is better", "met": met,
        "ours": ours, "baseline": baseline, "peer": peer, "chart": chart,
    })
    RESULTS_JSON.write_text(json.dumps(rows, indent=1) + "\n")
    _reported = True
    return ratio


def _rows(path: Path = RESULTS_JSON) -> list[dict]:
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return rows if isinstance(rows, list) else []


def reported() -> bool:
    """Whether this process reported a row (a benchmark ran)."""
    return _reported


def render_chart(results: Path = RESULTS_JSON, out: Path = CHART) -> Path | None:
    """Draws the recorded rows as horizontal bars, one cluster per group: ours, the baseline
    and each peer, relative to the group's baseline (1 = the baseline, log scale). Returns the
    file written, or None when there is nothing to draw."""
    rows = [row for row in _rows(results) if row.get("chart", True)]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row.get("group") or row["name"], []).append(row)

    clusters = []  # (label, [(series, value relative to the baseline)], goal of ours)
    for name, members in groups.items():
        base = next((r for r in members if not r.get("peer")), None)
        # a group measured against peers only: ours is the reference
        unit = base["baseline"] if base else members[0]["ours"]
        ours = (base or members[0])["ours"]
        bars = [("ours", ours / unit)]
        if base:
            bars.append(("baseline", 1.0))
        bars += [(r["peer"], r["baseline"] / unit) for r in members if r.get("peer")]
        lower = members[0].get("direction") == "lower is better"
        goal = base.get("goal") if base else None
        clusters.append((name + ("  [time: lower is better]" if lower else ""), bars, goal))

    series = ["ours", "baseline"]
    for _, bars, _ in clusters:
        series += [s for s, _ in bars if s not in series]
    palette = matplotlib.colormaps["tab10"].colors
    colors = {s: palette[i % len(palette)] for i, s in enumerate(series)}

    bar_height = 0.8
    y = 0.0
    ticks, labels = [], []
    seen: set[str] = set()
    height = sum(len(bars) for _, bars, _ in clusters) * bar_height + len(clusters) * 0.8
    fig, ax = plt.subplots(figsize=(13, max(3.0, 1.0 + height * 0.22)))
    for label, bars, goal in clusters:
        start = y
        if goal is not None:  # on ours' bar
            ax.plot([goal], [y], marker="|", markersize=14, markeredgewidth=2, color="black",
                    linestyle="none", label=None if "goal" in seen else "goal of ours")
            seen.add("goal")
        for s, value in bars:
            ax.barh(y, value, height=bar_height, color=colors[s],
                    label=None if s in seen else s)
            ax.text(value, y, f" {value:.2f}", va="center", fontsize=7)
            seen.add(s)
            y += bar_height
        ticks.append((start + y - bar_height) / 2)
        labels.append(label)
        y += 0.8
    ax.set_yticks(ticks, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.margins(y=0.005)
    ax.tick_params(axis="x", top=True, labeltop=True)  # the chart is tall
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("relative to the baseline measured in the same run (1 = baseline)")
    ax.set_title("make bench: ours vs baseline vs peers")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
