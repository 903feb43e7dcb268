"""The native backends for real, on the platforms that have them: IOKit assertions seen in
`pmset -g assertions` on macOS, power requests seen in `powercfg /requests` on Windows.
They run in the GitHub Actions workflow (macos-latest, windows-latest); on Linux they skip.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

REASON = "cocainate native test"


def spawn(*args: str) -> subprocess.Popen[str]:
    flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)  # for CTRL_BREAK on Windows
    return subprocess.Popen(
        [sys.executable, "-m", "cocainate", "--reason", REASON, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        creationflags=flags,
    )


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
def test_held_while_running_and_gone_after_the_signal() -> None:
    process = spawn()
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
def test_duration_and_process_exit() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cocainate", "-d", "300ms"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0 and "(duration elapsed)" in result.stdout, result.stderr
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)"])
    result = subprocess.run(
        [sys.executable, "-m", "cocainate", "-p", str(child.pid)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    child.wait()
    assert result.returncode == 0 and f"(process {child.pid} exited)" in result.stdout


@native
def test_methods_lists_the_native_mechanism() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cocainate", "methods"], capture_output=True, text=True, check=True
    ).stdout
    name = "iokit" if sys.platform == "darwin" else "power-request"
    assert out.startswith(name) and "usable" in out.splitlines()[0]
