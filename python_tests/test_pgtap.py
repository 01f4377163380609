"""Runs the pgTAP files of supabase/tests (what `supabase test db` runs) with psql."""

import subprocess
from pathlib import Path

import pytest

from harness.cluster import PG_BIN
from harness.migrate import ROOT

PGTAP_FILES = sorted((ROOT / "supabase" / "tests").glob("*.sql"))


@pytest.mark.parametrize("path", PGTAP_FILES, ids=[p.name for p in PGTAP_FILES])
def test_pgtap_file_passes(db_url, path: Path):
    result = subprocess.run(
        [str(PG_BIN / "psql"), db_url, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
         "-f", str(path)],
        capture_output=True, text=True,
    )
    tap = result.stdout
    assert result.returncode == 0, result.stderr
    assert "not ok" not in tap, tap
    plan = [line for line in tap.splitlines() if line.startswith("1..")]
    oks = [line for line in tap.splitlines() if line.startswith("ok ")]
    assert plan and len(oks) == int(plan[0][3:]), tap
