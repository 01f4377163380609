"""The Edge Functions' own tests (``supabase/functions/tests/*_test.ts``, run with ``deno test``)
against a migrated database of this module: each Deno test file serves the three functions
locally, against a fake OpenAI-compatible upstream, and checks what they answer and what they
wrote through the SQL API (rows, statuses, bodies). Deno comes from the npm registry
(``package.json``, installed by ``make deps``).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness.migrate import ROOT

DENO = ROOT / "node_modules" / ".bin" / "deno"
FUNCTIONS = ROOT / "supabase" / "functions"
TEST_FILES = sorted((FUNCTIONS / "tests").glob("*_test.ts"))


def deno_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "DENO_DIR": str(ROOT / ".deno"), "NO_COLOR": "1", **extra}


@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda p: p.stem)
def test_edge_function_suite(db_url: str, test_file: Path) -> None:
    if not DENO.exists():
        pytest.fail("Deno is not installed: `make deps` installs it (scripts/install-node-tools.sh)")
    proc = subprocess.run(
        [str(DENO), "test", "--frozen", "--allow-net", "--allow-env", "--allow-read",
         str(test_file.relative_to(FUNCTIONS))],
        cwd=FUNCTIONS, env=deno_env(SUPABASE_DB_URL=db_url),
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, f"deno test failed:\n{proc.stdout[-10000:]}\n{proc.stderr[-5000:]}"
