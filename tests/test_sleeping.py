"""A holding or waiting cocainate sleeps: over a span of seconds, its every thread uses no
CPU and is switched to not once (the kernel's counts, /proc/PID/task/*/schedstat and
status), in every mode. Nothing polls; the one documented exception, the scan for a new
process while none runs, is given an interval longer than the span here (its cost is
measured in docs/benchmarks.md)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from buses import have, stop
from conftest import Desktop, spawn_cli

SPAN = 2.5
"""Seconds over which a sleeping cocainate must not run at all."""


def counts(pid: int) -> tuple[int, int]:
    """CPU nanoseconds and context switches of every thread of ``pid`` so far."""
    cpu = switches = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        cpu += int((task / "schedstat").read_text().split()[0])
        for line in (task / "status").read_text().splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                switches += int(line.split()[1])
    return cpu, switches


def assert_asleep(process: subprocess.Popen[str]) -> None:
    time.sleep(0.5)  # what start-up left to do (a drain, a first scan) is done
    cpu, switches = counts(process.pid)
    time.sleep(SPAN)
    cpu_after, switches_after = counts(process.pid)
    assert process.poll() is None
    assert (switches_after - switches, cpu_after - cpu) == (0, 0), "woke while asleep"


def started(process: subprocess.Popen[str], expect: str) -> None:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert expect in line, line + (process.stderr.read() if process.stderr else "")


@pytest.fixture
def cli(bus_env: Desktop) -> Iterator[Any]:
    made: list[subprocess.Popen[str]] = []

    def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        made.append(spawn_cli(*args, env=env or bus_env.env))
        return made[-1]

    yield start
    for process in made:
        stop(process)


@pytest.fixture
def sleepers() -> Iterator[Any]:
    made: list[subprocess.Popen[bytes]] = []

    def start(program: str = "sleep") -> subprocess.Popen[bytes]:
        made.append(subprocess.Popen([program, "600"]))
        return made[-1]

    yield start
    for process in made:
        process.kill()
        process.wait()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["-d", "1h"],
        ["--until", (datetime.now() + timedelta(hours=2)).isoformat(timespec="seconds")],
        ["--mode", "system", "--json"],
    ],
    ids=["plain", "duration", "until", "system-json"],
)
def test_holding_sleeps(cli: Any, args: list[str]) -> None:
    process = cli(*args)
    started(process, "acquired" if "--json" in args else "keeping the")
    assert_asleep(process)


def test_holding_with_processes_sleeps_after_one_exits(cli: Any, sleepers: Any) -> None:
    first, *others = [sleepers() for _ in range(3)]
    process = cli(*[arg for p in (first, *others) for arg in ("-p", str(p.pid))])
    started(process, "until processes")
    first.kill()
    first.wait()
    assert_asleep(process)


def test_holding_around_a_command_sleeps(cli: Any) -> None:
    process = cli("--", "sleep", "600")
    assert process.stderr is not None
    assert "until sleep exits" in process.stderr.readline()
    assert_asleep(process)


def test_while_running_sleeps_holding_and_waiting(
    cli: Any, sleepers: Any, tmp_path: Path, bus_env: Desktop
) -> None:
    import shutil

    name = "cc" + str(time.monotonic_ns())[-10:]
    shutil.copy(shutil.which("sleep") or "/bin/sleep", tmp_path / name)
    sleepers(str(tmp_path / name))
    holding = cli("--while-running", name)
    started(holding, "; holding (")
    assert_asleep(holding)
    config = tmp_path / "config.toml"
    config.write_text(f'while-running = ["{name}x"]\nscan-interval = "1h"\n')
    waiting = cli("watch", "--config", str(config))
    started(waiting, "; waiting:")
    assert_asleep(waiting)


def test_while_playing_sleeps_waiting_and_holding(cli: Any, bus_env: Desktop) -> None:
    from test_mpris import Player

    waiting = cli("--while-playing")
    started(waiting, "; waiting:")
    assert_asleep(waiting)
    player = Player(bus_env)
    try:
        player.do("own sleepy", "status Playing")
        holding = cli("--while-playing")
        started(holding, "; holding (")
        assert_asleep(holding)
        assert_asleep(waiting)  # which holds now too
    finally:
        player.kill()


def test_only_on_ac_sleeps(cli: Any, bus_env: Desktop) -> None:
    from test_conditions import UPower

    upower = UPower(bus_env.system_bus, on_battery=False)
    try:
        process = cli("--only-on-ac")
        started(process, "; holding (")
        assert_asleep(process)
    finally:
        upower.stop()


@pytest.mark.skipif(not have("Xvfb", "openbox", "wmctrl", "xdotool"), reason="needs openbox")
def test_x11_sleeps_holding_and_following_fullscreen(cli: Any, bus_env: Desktop) -> None:
    from test_conditions import WindowManager, unique

    wm = WindowManager()
    try:
        env = dict(bus_env.env, DISPLAY=wm.display)
        window = wm.window(unique())
        waiting = cli("--while-fullscreen", "--method", "screensaver", env=env)
        started(waiting, "; waiting:")
        assert_asleep(waiting)
        wm.fullscreen(window, True)
        held = cli("--while-fullscreen", "--method", "x11", "--method", "screensaver", env=env)
        started(held, "; holding (")
        assert_asleep(held)
    finally:
        wm.close()


@pytest.mark.skipif(not have("sway"), reason="needs sway")
def test_wayland_sleeps_holding_and_following_fullscreen(cli: Any) -> None:
    pytest.importorskip("pywayland")
    from sway import Sway

    sway = Sway()
    try:
        held = cli("--method", "wayland", env=sway.env)
        started(held, "(wayland)")
        following = cli("--while-fullscreen", "--method", "wayland", env=sway.env)
        started(following, "; waiting:")
        assert_asleep(held)
        assert_asleep(following)
    finally:
        sway.close()


def test_a_hold_served_on_the_bus_and_its_follower_sleep(cli: Any, bus_env: Desktop) -> None:
    """The control interface is served by the hold's own loop, and ``status --follow``
    sleeps in one read of the bus: after a call, neither runs while nothing changes."""
    process = cli("-d", "1h")
    started(process, "keeping the")
    follower = cli("status", "--follow")
    assert follower.stdout is not None
    assert follower.stdout.readline().startswith("holding until ")
    import cocainate

    (found,) = cocainate.find_sessions()  # a GetAll: the hold answers, then sleeps again
    found.pause()
    assert follower.stdout.readline().startswith("paused: ")
    assert_asleep(process)
    assert_asleep(follower)


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def test_hours_sleep_holding_and_waiting(cli: Any) -> None:
    """``--between``: one timer on the wall clock, at the next start or end."""
    now = time.localtime()
    minute = now.tm_hour * 60 + now.tm_min
    if minute < 2 or minute > 24 * 60 - 4:
        pytest.skip("too near midnight for ranges around now")
    inside = f"{hhmm(minute - 1)}-{hhmm(minute + 3)}"
    later = (now.tm_hour + 2) % 24
    holding = cli("--between", inside)
    started(holding, "keeping the")
    waiting = cli("--between", f"{later:02d}:00-{later:02d}:30")
    started(waiting, "keeping the")
    assert_asleep(holding)
    assert_asleep(waiting)


@pytest.mark.skipif(not have("pulseaudio", "paplay"), reason="needs PulseAudio")
def test_while_audio_sleeps_waiting_and_holding(cli: Any, bus_env: Desktop, tmp_path: Path) -> None:
    """Both threads of it: the session's, and the one asleep in libpulse's poll."""
    from test_audio import Pulse

    pulse = Pulse(tmp_path / "pulse")
    env = {**bus_env.env, "PULSE_SERVER": pulse.server}
    try:
        waiting = cli("--while-audio", env=env)
        started(waiting, "; waiting:")
        assert_asleep(waiting)
        pulse.play()
        holding = cli("--while-audio", env=env)
        started(holding, "; holding (")
        assert len(list(Path(f"/proc/{holding.pid}/task").iterdir())) == 2
        assert_asleep(holding)
        assert_asleep(waiting)  # which holds now too
    finally:
        pulse.close()
