"""The seed's own bug, and its kin: a session stopped early must leave nothing behind, with
every kind of source (a duration, a watched PID, an ``until`` time) and every Linux
mechanism held: no timer, pidfd, timerfd, pipe, bus or display connection, thread, memory,
or inhibit."""

from __future__ import annotations

import gc
import os
import subprocess
import threading
import time
import tracemalloc
from collections.abc import Iterator

import pytest

from buses import have, stop
from cocainate import Session
from cocainate.bindings import idle
from conftest import Desktop

EVERY = {"screensaver", "gnome-session", "power-management", "x11", "wayland", "logind"}


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(scope="module")
def compositor() -> Iterator[object]:
    if not have("sway"):
        pytest.skip("needs sway for the Wayland mechanism")
    pytest.importorskip("pywayland")
    from sway import Sway

    sway = Sway()
    try:
        yield sway
    finally:
        sway.close()


def test_a_thousand_early_stopped_hour_long_sessions_leave_nothing(
    bus_env: Desktop, x_display: str, compositor: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", x_display)
    monkeypatch.setenv("WAYLAND_DISPLAY", compositor.display)  # type: ignore[attr-defined]
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(compositor.runtime))  # type: ignore[attr-defined]
    child = subprocess.Popen(["sleep", "600"])
    until = time.time() + 3600

    def one() -> None:
        session = Session(duration=3600, pids=[child.pid], until=until).start()
        assert set(session.holding) == EVERY
        session.stop()

    try:
        for _ in range(20):  # warm caches and imports; fills the idle connections (one a bus)
            one()
        gc.collect()
        threads, fds = threading.active_count(), open_fds()
        tracemalloc.start()
        try:
            baseline = tracemalloc.take_snapshot()
            for _ in range(1000):
                one()
            gc.collect()
            grown = sum(
                s.size_diff for s in tracemalloc.take_snapshot().compare_to(baseline, "filename")
            )
        finally:
            tracemalloc.stop()
    finally:
        stop(child)
    assert threading.active_count() == threads
    assert open_fds() == fds
    assert grown < 64 * 1024, f"retained {grown} bytes after 1000 sessions"
    assert bus_env.nothing_held()
    assert len(bus_env.screensaver.calls("UnInhibit")) == 1020
    views = compositor.views()  # type: ignore[attr-defined]
    assert not [v for v in views if v.get("app_id") == "cocainate"]


def test_sessions_with_every_condition_leave_nothing(
    bus_env: Desktop, x_display: str, tmp_path: object
) -> None:
    """Every watcher's fds and connections (pidfds, the session bus for MPRIS, the system
    bus for UPower, the X connection for fullscreen) go with the session, holding or
    waiting, and each hold made along the way is let go."""
    import shutil
    from pathlib import Path

    from cocainate import Fullscreen, MediaPlaying, ProcessRunning
    from test_conditions import UPower

    name = "ccleak" + str(os.getpid())[-6:]
    program = Path(str(tmp_path)) / name
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    upower = UPower(bus_env.system_bus, on_battery=False)
    env_display = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = x_display
    running: subprocess.Popen[bytes] | None = None

    def one(hold: bool) -> None:
        conditions = [ProcessRunning(name), MediaPlaying(), Fullscreen()]
        session = Session(conditions=conditions, only_on_ac=True, methods=["screensaver"])
        session.start()
        assert session.state == ("holding" if hold else "waiting")
        session.stop()

    try:
        for _ in range(5):
            one(hold=False)
        gc.collect()
        idle.close_idle()
        threads, fds = threading.active_count(), open_fds()
        for _ in range(100):
            one(hold=False)
        running = subprocess.Popen([str(program), "600"])
        time.sleep(0.2)  # named (see test_conditions.program)
        for _ in range(100):
            one(hold=True)
        running.kill()
        running.wait()
        gc.collect()
        assert threading.active_count() == threads
        # the holds' one connection to the session bus, kept for the next hold
        assert len(idle._idle) == 1
        idle.close_idle()
        assert open_fds() == fds
        assert bus_env.nothing_held()
    finally:
        if running is not None and running.poll() is None:
            running.kill()
            running.wait()
        upower.stop()
        if env_display is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = env_display
