"""Edge Functions benchmark (run by `make bench`): the overhead llm-chat adds to the time to
the first byte of a streamed answer, at 1 and 32 concurrent clients.

The fake upstream, the gateway (`supabase/functions/_dev/serve.ts`) and the clients
(`_dev/bench.ts`) run as three Deno processes against a migrated database. Each client sends
the same streamed request alternately to the fake upstream directly (the baseline) and through
the gateway (a signed-in user with a hard quota, its own conversation, a new prompt each time:
quota reserved, message stored, cache missed, upstream called). Reported: the ratio of the two
p50 times, and the added p50 in ms against the goal of at most 10 ms.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import time

import pytest

from conftest import _clone
from harness import bench
from harness.migrate import ROOT

FUNCTIONS = ROOT / "supabase" / "functions"
DENO = str(ROOT / "node_modules" / ".bin" / "deno")
SECRET = "bench-jwt-secret-with-at-least-32-characters"
GOAL_MS = 10.0


@pytest.fixture(scope="module")
def bench_db(server, template_db):
    janitor, url = _clone(server, template_db, "bench_edge_functions")
    yield url
    janitor.drop()


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "DENO_DIR": str(ROOT / ".deno"), "NO_COLOR": "1", **extra}


def _start(args: list[str], env: dict[str, str], ready: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([DENO, "run", "--frozen", "--allow-net", "--allow-env", "--allow-read",
                             *args], cwd=FUNCTIONS, env=env, stdout=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if ready in line:
            return proc, "".join(lines)
    proc.kill()
    raise RuntimeError(f"{args[0]} did not start:\n{''.join(lines)}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gateway_time_to_first_byte_against_a_direct_call(bench_db):
    fake, out = _start(["_dev/fake_upstream.ts", "0"], _env(), "fake upstream listening")
    upstream = out.split("listening: ")[1].split()[0]
    port = _free_port()
    gateway, _ = _start(["_dev/serve.ts", str(port)],
                        _env(SUPABASE_DB_URL=bench_db, SUPABASE_JWT_SECRET=SECRET,
                             LLM_BASE_URL=upstream, LLM_DB_POOL_SIZE="40"),
                        "Ctrl-C stops")
    try:
        proc = subprocess.run(
            [DENO, "run", "--frozen", "--allow-net", "--allow-env", "--allow-read", "_dev/bench.ts"],
            cwd=FUNCTIONS, capture_output=True, text=True, timeout=900,
            env=_env(SUPABASE_DB_URL=bench_db, SUPABASE_JWT_SECRET=SECRET,
                     LLM_BENCH_GATEWAY=f"http://127.0.0.1:{port}/functions/v1",
                     LLM_BENCH_UPSTREAM=upstream),
        )
        assert proc.returncode == 0, proc.stderr[-5000:]
    finally:
        for p in (gateway, fake):
            p.terminate()
            p.wait(timeout=10)
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    for clients, times in results.items():
        direct = statistics.median(times["direct_ms"])
        through = statistics.median(times["gateway_ms"])
        label = f"{clients} client{'s' if clients != '1' else ''}"
        bench.report(f"llm-chat time to first byte vs direct upstream call, {label} (p50 ratio)",
                     through, direct)
        added = through - direct
        line = (f"llm-chat added time to first byte, {label}: {added:.1f} ms p50 "
                f"(gateway {through:.1f} ms, direct {direct:.1f} ms)  goal <= {GOAL_MS:g} ms: "
                f"{'met' if added <= GOAL_MS else 'NOT met'}")
        print(line)
        bench.RESULTS.parent.mkdir(exist_ok=True)
        with bench.RESULTS.open("a") as f:
            f.write(line + "\n")
