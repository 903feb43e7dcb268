"""The suite's own time limit (tests/timeouts.py): a test that hangs fails, and the run
goes on to the next test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.mark.skipif(sys.platform == "win32", reason="SIGALRM")
def test_a_hanging_test_fails_on_its_own_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "test_hang.py").write_text(
        "import threading, time\n"
        "import pytest\n\n"
        "@pytest.mark.timeout(1)\n"
        "def test_sleeps() -> None:\n"
        "    time.sleep(60)\n\n"
        "@pytest.mark.timeout(1)\n"
        "def test_joins() -> None:\n"
        "    threading.Event().wait()\n\n"
        "def test_after() -> None:\n"
        "    pass\n"
    )
    env = dict(os.environ, PYTHONPATH=str(HERE))
    begin = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "timeouts", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.monotonic() - begin < 20
    assert "2 failed, 1 passed" in result.stdout, result.stdout
    assert "TimedOut: test_hang.py::test_sleeps: call took more than 1 s" in result.stdout
    assert "TimedOut: test_hang.py::test_joins: call took more than 1 s" in result.stdout
