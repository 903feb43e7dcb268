"""``linger`` / ``--linger``: a hold its conditions no longer call for is let go only once
they have been unmet that long; met again meanwhile, nothing was let go. A real process
(``ProcessRunning``, followed by its pidfd) on the test desktop's stand-in screensaver."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from buses import wait_until
from cocainate import Hours, ProcessRunning, Session
from conftest import Desktop


def held(desktop: Desktop) -> int:
    return len(desktop.held()["screensaver"])


def program(tmp_path: Path) -> tuple[str, Path]:
    name = "cclinger" + str(tmp_path.stat().st_ino)[-6:]
    shutil.copy(shutil.which("sleep") or "/bin/sleep", tmp_path / name)
    return name, tmp_path / name


def test_the_hold_outlasts_its_condition_by_the_linger(bus_env: Desktop, tmp_path: Path) -> None:
    name, path = program(tmp_path)
    running = subprocess.Popen([str(path), "60"])
    condition = ProcessRunning(name, interval=0.1)
    session = Session(conditions=[condition], methods=["screensaver"], linger=1.5).start()
    try:
        assert session.state == "holding"
        running.kill()
        running.wait()
        gone = time.monotonic()
        wait_until(lambda: session.wait(0.05) is None and held(bus_env) == 0, 5, "the release")
        assert 1.4 < time.monotonic() - gone < 3.0
        assert session.state == "waiting"
    finally:
        session.stop()
        running.kill()
        running.wait()


def test_met_again_within_the_linger_nothing_is_let_go(bus_env: Desktop, tmp_path: Path) -> None:
    name, path = program(tmp_path)
    first = subprocess.Popen([str(path), "60"])
    condition = ProcessRunning(name, interval=0.1)
    session = Session(conditions=[condition], methods=["screensaver"], linger=2.0).start()
    second = None
    try:
        first.kill()
        first.wait()
        session.wait(0.5)
        second = subprocess.Popen([str(path), "60"])  # within the linger: seen within 0.1 s
        session.wait(2.5)
        assert session.state == "holding" and held(bus_env) == 1
        assert len(bus_env.screensaver.calls("UnInhibit")) == 0
    finally:
        session.stop()
        for process in (first, second):
            if process is not None:
                process.kill()
                process.wait()


def test_a_gate_closing_is_not_lingered(bus_env: Desktop, tmp_path: Path) -> None:
    """Lingering is for the conditions only: a pause lets go at once."""
    name, path = program(tmp_path)
    running = subprocess.Popen([str(path), "60"])
    session = Session(
        conditions=[ProcessRunning(name, interval=0.1)],
        gates=[Hours("00:00-24:00")],
        methods=["screensaver"],
        linger=30,
    ).start()
    try:
        session.pause()
        wait_until(lambda: session.wait(0.05) is None and held(bus_env) == 0, 3, "the pause")
    finally:
        session.stop()
        running.kill()
        running.wait()
