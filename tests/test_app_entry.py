"""`python app.py`, as a newcomer runs it: migrates, seeds the demo roster, serves the simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.pg import _free_port

ROOT = Path(__file__).resolve().parent.parent


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except urllib.error.HTTPError as exc:  # 503 until the first tick: still an answer
            return exc.read()
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {seconds}s")


def test_python_app_py_serves_the_simulator_with_the_demo_roster(tmp_path):
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path}/faro.db",
        "TICK_SECONDS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        page = wait_for(f"http://127.0.0.1:{port}/simulator/", process).decode()
        assert "Ana Lopez" in page and "Rosa Martinez" in page
        deadline = time.monotonic() + 30
        health = {}
        while time.monotonic() < deadline and health.get("status") != "ok":
            health = json.loads(wait_for(f"http://127.0.0.1:{port}/health", process))
            time.sleep(0.2)
        assert health["status"] == "ok", health  # the in-process scheduler has ticked
    finally:
        process.terminate()
        process.communicate(timeout=30)
