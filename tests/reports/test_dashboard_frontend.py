"""The dashboard's front end in words (frontend/dashboard/tests, `node --test`): the sentences
and tables beside each chart, from the contract's fixture JSON. Skipped without Node.js."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "frontend" / "dashboard"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_figures_in_words_pass_their_node_tests() -> None:
    proc = subprocess.run(
        ["node", "--test", "tests/"],
        cwd=APP,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout
