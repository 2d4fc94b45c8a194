"""The floors are a checked contract: edge (bot) → conversation (bot.conversation) → domain
(escalation) → base (escalation.base), imports only pointing down and no circles within a
floor (pyproject.toml, [tool.importlinter]). An upward import fails here, not in review."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_import_points_down_and_no_floor_has_a_circle():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "5 kept, 0 broken" in result.stdout
