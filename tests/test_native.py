"""The native backends for real, on the platforms that have them: IOKit assertions seen in
`pmset -g assertions` on macOS, power requests seen in `powercfg /requests` on Windows.
They run in the GitHub Actions workflow (macos-latest, windows-latest); on Linux they skip.
Under Wine (tests/test_wine.py) the parts Wine lacks skip: it has no powercfg, its power
requests are stubs, and a parent cannot send Ctrl-Break; tests/test_windows.py covers
the rest there. Every process a test starts is killed whatever the outcome.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

REASON = "cocainate native test"
WINE = sys.platform == "win32" and hasattr(ctypes.WinDLL("ntdll"), "wine_get_version")  # type: ignore[attr-defined,unused-ignore]


def spawn(children: list[subprocess.Popen[Any]], *args: str) -> subprocess.Popen[str]:
    flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)  # for CTRL_BREAK on Windows
    process = subprocess.Popen(
        [sys.executable, "-m", "cocainate", "--reason", REASON, *args],
        stdin=subprocess.PIPE,  # under Wine every standard stream must be a pipe
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        creationflags=flags,
    )
    children.append(process)
    return process


def listed() -> bool:
    if sys.platform == "darwin":
        command = ["pmset", "-g", "assertions"]
    else:
        command = ["powercfg", "/requests"]
    return REASON in subprocess.run(command, capture_output=True, text=True).stdout


def wait_for(predicate: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


native = pytest.mark.skipif(sys.platform not in ("darwin", "win32"), reason="macOS or Windows")


@native
@pytest.mark.skipif(WINE, reason="Wine: no powercfg, power requests are stubs, no Ctrl-Break")
def test_held_while_running_and_gone_after_the_signal(
    children: list[subprocess.Popen[Any]],
) -> None:
    process = spawn(children)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "keeping the display awake" in line, line + (
        process.stderr.read() if process.stderr else ""
    )
    assert wait_for(listed)
    if sys.platform == "win32":
        process.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined,unused-ignore]
    else:
        process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "(signal SIG" in out
    assert wait_for(lambda: not listed())


@native
def test_duration_and_process_exit(children: list[subprocess.Popen[Any]]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cocainate", "-d", "300ms"],
        stdin=subprocess.PIPE,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0 and "(duration elapsed)" in result.stdout, result.stderr
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(1)"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    children.append(child)
    result = subprocess.run(
        [sys.executable, "-m", "cocainate", "-p", str(child.pid)],
        stdin=subprocess.PIPE,
        capture_output=True,
        text=True,
        timeout=30,
    )
    child.wait(30)
    assert result.returncode == 0 and f"(process {child.pid} exited)" in result.stdout


@native
def test_methods_lists_the_native_mechanism() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cocainate", "methods"],
        stdin=subprocess.PIPE,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = out.splitlines()[1:]  # under the header
    names = ["iokit"] if sys.platform == "darwin" else ["power-request", "execution-state"]
    assert [row.split()[0] for row in rows] == names
    assert "usable" in rows[0]
