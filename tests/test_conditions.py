"""Conditions on real components: real processes, a real media player (mpv with mpv-mpris)
on a private session bus, python-dbusmock's UPower on a private system bus; the inhibits
held go to the desktop's stand-in services, and the session follows each condition both
ways, in the library and on the command line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cocainate
from buses import Bus, dbusmock_python, have, stop, wait_until
from cocainate import Fullscreen, MediaPlaying, ProcessRunning, Session
from cocainate.errors import ConditionError, UsageError
from conftest import Desktop, spawn_cli


class Watching:
    """A session with conditions, waited on in a thread, its events recorded."""

    def __init__(self, **kwargs: Any) -> None:
        self.events: list[cocainate.Event] = []
        self.session = Session(on_event=self.events.append, **kwargs)
        self.session.start()
        self.ended: list[Any] = []
        self.thread = threading.Thread(target=lambda: self.ended.append(self.session.wait()))
        self.thread.start()

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    def wait_for(self, kind: str, count: int = 1, timeout: float = 5.0) -> cocainate.Event:
        wait_until(lambda: self.kinds().count(kind) >= count, timeout, f"{count} {kind}")
        return [e for e in self.events if e.kind == kind][count - 1]

    def stop(self) -> None:
        self.session.stop()
        self.thread.join(5)
        assert not self.thread.is_alive()


@pytest.fixture
def watching() -> Iterator[list[Watching]]:
    made: list[Watching] = []
    yield made
    for w in made:
        w.stop()


@pytest.fixture
def program(tmp_path: Path) -> Iterator[Any]:
    """Start copies of /bin/sleep under a name of the test's own; kill them all at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, seconds: str = "60") -> subprocess.Popen[bytes]:
        path = tmp_path / name
        if not path.exists():
            shutil.copy(shutil.which("sleep") or "/bin/sleep", path)
        process = subprocess.Popen([str(path), seconds])
        started.append(process)
        # Popen returns once exec() has closed the close-on-exec fds, a moment before the
        # kernel names the process: wait for the name, as a user who starts it would.
        wait_until(lambda: _comm(process.pid) in (name[:15], None), 5, f"{name} to be named")
        return process

    yield start
    for process in started:
        process.kill()
        process.wait()


def _comm(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def unique(length: int = 12) -> str:
    return ("cc" + uuid.uuid4().hex)[:length]


# -- processes ------------------------------------------------------------------------


def test_holds_while_a_process_runs_and_waits_otherwise(
    bus_env: Desktop, program: Any, watching: list[Watching]
) -> None:
    name = unique()
    w = Watching(conditions=ProcessRunning(name, interval=0.1))
    watching.append(w)
    assert w.session.state == "waiting" and w.kinds() == ["waiting"]
    assert w.events[0].condition == f"{name} runs"
    assert bus_env.nothing_held()

    process = program(name)
    acquired = w.wait_for("acquired")
    assert f"{name} runs (pid {process.pid})" == acquired.condition
    assert w.session.state == "holding" and w.session.holding
    assert bus_env.held()["screensaver"]

    process.kill()
    process.wait()
    released = w.wait_for("released")
    assert released.condition == f"{name} exited (pid {process.pid})"
    assert w.session.state == "waiting" and w.session.holding == ()
    wait_until(bus_env.nothing_held, 3, "the inhibits let go")

    program(name)  # and again: each hold is a new one
    w.wait_for("acquired", 2)
    w.stop()
    assert w.kinds()[-2:] == ["ended", "released"]
    assert w.ended[0].reason == cocainate.EndReason.STOPPED


def test_a_process_running_at_start_holds_at_once_and_others_keep_it(
    bus_env: Desktop, program: Any, watching: list[Watching]
) -> None:
    name = unique()
    first = [program(name) for _ in range(5)]
    other = program(unique())  # another name: it never counts
    w = Watching(conditions=[ProcessRunning(name)])
    watching.append(w)
    assert w.session.state == "holding"
    assert w.events[0].kind == "acquired" and "and 4 more" in (w.events[0].condition or "")
    for process in first[:4]:
        process.kill()
        process.wait()
    late = program(name)  # started while one still runs: found by the scan at the last exit
    first[4].kill()
    first[4].wait()
    time.sleep(0.3)  # a release now would be wrong: give it the chance to happen
    assert w.session.state == "holding" and "released" not in w.kinds()
    late.kill()
    late.wait()
    assert w.wait_for("released").condition == f"{name} exited (pid {late.pid})"
    assert other.poll() is None


def test_a_long_name_and_a_name_taken_by_exec(
    bus_env: Desktop, program: Any, tmp_path: Path, watching: list[Watching]
) -> None:
    """Linux keeps 15 bytes of a name; a shell script's last command exec()s into it."""
    long_name = unique(24)
    short = unique()
    w = Watching(conditions=ProcessRunning(long_name, short, interval=0.1))
    watching.append(w)
    program(long_name[:15] + "x")  # the same 15 bytes, another program: not it
    time.sleep(0.4)
    assert w.kinds() == ["waiting"]
    process = program(long_name)
    assert w.wait_for("acquired").condition == f"{long_name} runs (pid {process.pid})"
    process.kill()
    process.wait()
    w.wait_for("released")

    shutil.copy(shutil.which("sleep") or "/bin/sleep", tmp_path / short)
    shell = subprocess.Popen(["sh", "-c", f"sleep 0.5; exec {tmp_path / short} 60"])
    try:
        assert w.wait_for("acquired", 2).condition == f"{short} runs (pid {shell.pid})"
    finally:
        shell.kill()
        shell.wait()
    w.wait_for("released", 2)


def test_a_script_is_found_by_its_own_name_however_it_was_started(
    bus_env: Desktop, tmp_path: Path, watching: list[Watching]
) -> None:
    """Through its #! line (the kernel's name is the script's for #!/bin/sh, the
    interpreter's for #!/usr/bin/env python3), or named to an interpreter; and two names
    longer than the kernel's 15 bytes that share those 15 bytes are told apart."""
    long_name = unique(20) + ".sh"
    twin = long_name[:15] + "-twin.sh"
    python_job, shell_job = unique() + ".py", unique() + ".sh"
    (tmp_path / python_job).write_text("#!/usr/bin/env python3\nimport time\ntime.sleep(60)\n")
    for name in (long_name, twin, shell_job):
        (tmp_path / name).write_text("#!/bin/sh\nwhile :; do sleep 1; done\n")
    for name in (python_job, long_name, twin, shell_job):
        (tmp_path / name).chmod(0o755)
    w = Watching(conditions=ProcessRunning(python_job, long_name, shell_job, interval=0.05))
    watching.append(w)
    ways = [
        [str(tmp_path / twin)],  # first: not it, though its first 15 bytes are
        [str(tmp_path / python_job)],
        [sys.executable, "-u", str(tmp_path / python_job)],
        ["sh", str(tmp_path / shell_job)],
        [str(tmp_path / shell_job)],
        [str(tmp_path / long_name)],
    ]
    count = 0
    for argv in ways:
        process = subprocess.Popen(argv, cwd=tmp_path)
        try:
            if argv[-1].endswith(twin):
                time.sleep(0.5)
                assert w.kinds() == ["waiting"], w.events
                continue
            count += 1
            condition = w.wait_for("acquired", count).condition
            assert condition == f"{Path(argv[-1]).name} runs (pid {process.pid})", argv
        finally:
            process.kill()
            process.wait()
        w.wait_for("released", count)


def test_no_wakeups_while_a_process_is_held_on(
    bus_env: Desktop, program: Any, watching: list[Watching]
) -> None:
    """While the process runs, nothing wakes the session: no scan, no timer."""
    name = unique()
    program(name)
    w = Watching(conditions=ProcessRunning(name, interval=0.05))
    watching.append(w)
    assert w.session.state == "holding"
    reactor = w.session._run.reactor
    assert reactor is not None
    wakeup = reactor.next_wakeup()
    assert wakeup.timeout is None  # sleeps until something happens


def test_process_condition_arguments() -> None:
    for bad in ("", "a/b", "x\0y"):
        with pytest.raises(UsageError, match="process name"):
            ProcessRunning(bad)
    with pytest.raises(UsageError, match="at least one"):
        ProcessRunning()
    with pytest.raises(UsageError, match="scan interval"):
        ProcessRunning("x", interval=0)
    with pytest.raises(UsageError, match="not a Condition"):
        Session(conditions=["ffmpeg"])  # type: ignore[list-item]


# -- media players ----------------------------------------------------------------------

needs_mpv = pytest.mark.skipif(
    not (have("mpv", "playerctl") and os.path.exists("/usr/lib/mpv-mpris/mpris.so")),
    reason="needs mpv, mpv-mpris and playerctl (tools/test installs them)",
)


def start_mpv(bus: Bus) -> subprocess.Popen[str]:
    return bus.spawn(
        [
            "mpv",
            "--no-config",
            "--script=/usr/lib/mpv-mpris/mpris.so",
            "--no-video",
            "--ao=null",
            "--no-terminal",
            "--idle=no",
            "av://lavfi:sine=frequency=440:duration=3600",
        ],
        name="org.mpris.MediaPlayer2.mpv",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def playerctl(bus: Bus, *args: str) -> None:
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=bus.address)
    subprocess.run(["playerctl", "--player=mpv", *args], env=env, check=True, timeout=10)


@needs_mpv
def test_holds_while_media_plays(bus_env: Desktop, watching: list[Watching]) -> None:
    bus = bus_env.session_bus
    w = Watching(conditions=MediaPlaying())
    watching.append(w)
    assert w.kinds() == ["waiting"]
    player = start_mpv(bus)
    try:
        assert w.wait_for("acquired").condition == "mpv plays"
        assert bus_env.held()["screensaver"]
        playerctl(bus, "pause")
        assert w.wait_for("released").condition == "no media plays"
        wait_until(bus_env.nothing_held, 3, "the inhibits let go")
        playerctl(bus, "play")
        w.wait_for("acquired", 2)
        player.kill()  # a player that dies is gone from the bus: not playing any more
        w.wait_for("released", 2)
    finally:
        stop(player)


@needs_mpv
def test_a_player_playing_at_start_holds_at_once(bus_env: Desktop) -> None:
    bus = bus_env.session_bus
    player = start_mpv(bus)
    try:
        wait_until(lambda: _status(bus) == "Playing", 10, "mpv to play")
        with Session(conditions=[MediaPlaying()]) as session:
            assert session.state == "holding"
            assert session.conditions_now == "mpv plays"
    finally:
        stop(player)


def _status(bus: Bus) -> str:
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=bus.address)
    done = subprocess.run(["playerctl", "status"], env=env, capture_output=True, text=True)
    return done.stdout.strip()


# -- mains power ------------------------------------------------------------------------


class UPower:
    """python-dbusmock's UPower template on the system bus."""

    name = "org.freedesktop.UPower"

    def __init__(self, bus: Bus, on_battery: bool) -> None:
        self.bus = bus
        self.process = bus.spawn(
            [
                dbusmock_python(),
                "-m",
                "dbusmock",
                "--system",
                "--template",
                "upower",
                "--parameters",
                json.dumps({"OnBattery": on_battery}),
            ],
            name=self.name,
            stdout=subprocess.DEVNULL,
        )

    def set_on_battery(self, on_battery: bool) -> None:
        self.bus.call(
            self.name,
            "/org/freedesktop/UPower",
            "org.freedesktop.DBus.Properties",
            "Set",
            "ssv",
            ("org.freedesktop.UPower", "OnBattery", ("b", on_battery)),
        )

    def stop(self) -> None:
        stop(self.process)


def test_only_on_ac_follows_upower(bus_env: Desktop, program: Any) -> None:
    upower = UPower(bus_env.system_bus, on_battery=True)
    w: Watching | None = None
    try:
        name = unique()
        program(name)
        w = Watching(conditions=ProcessRunning(name), only_on_ac=True)
        assert w.session.state == "waiting"
        assert w.events[0].condition == f"{name} runs, on mains power"
        assert bus_env.nothing_held()
        upower.set_on_battery(False)
        condition = w.wait_for("acquired").condition or ""
        assert condition.startswith(f"{name} runs (pid ") and condition.endswith(", on mains power")
        upower.set_on_battery(True)
        assert w.wait_for("released").condition == "on battery"
        wait_until(bus_env.nothing_held, 3, "the inhibits let go")
    finally:
        if w is not None:
            w.stop()
        upower.stop()


def test_only_on_ac_alone_and_without_upower(bus_env: Desktop) -> None:
    upower = UPower(bus_env.system_bus, on_battery=False)
    try:
        with Session(only_on_ac=True) as session:
            assert session.state == "holding" and session.conditions_now == "on mains power"
    finally:
        upower.stop()
    wait_until(lambda: not bus_env.system_bus.has_owner(UPower.name), 5, "UPower to leave")
    with pytest.raises(ConditionError, match=r"UPower .* is not running"):
        Session(only_on_ac=True).start()
    assert bus_env.nothing_held()


# -- the command line -------------------------------------------------------------------


def test_cli_while_running_prints_each_transition(bus_env: Desktop, program: Any) -> None:
    name = unique()
    cli = spawn_cli("--while-running", name, "--json", "-d", "20s", env=bus_env.env)
    try:
        assert cli.stdout is not None
        first = json.loads(cli.stdout.readline())
        assert first["event"] == "waiting" and first["condition"] == f"{name} runs"
        process = program(name)
        acquired = json.loads(cli.stdout.readline())
        assert acquired["event"] == "acquired"
        assert acquired["condition"] == f"{name} runs (pid {process.pid})"
        assert "screensaver" in acquired["mechanisms"]
        process.kill()
        released = json.loads(cli.stdout.readline())
        assert released["event"] == "released" and "exited" in released["condition"]
        cli.terminate()
        assert [json.loads(line)["event"] for line in cli.stdout] == ["ended"]
        assert cli.wait(5) == 0
    finally:
        stop(cli)
    assert bus_env.nothing_held()


def test_cli_says_what_it_waits_for(bus_env: Desktop, program: Any) -> None:
    name = unique()
    cli = spawn_cli("--while-running", name, "-v", env=bus_env.env)
    try:
        assert cli.stdout is not None
        line = cli.stdout.readline()
        assert f"awake while {name} runs, until Ctrl-C" in line
        assert f"waiting: no {name} runs" in line
        process = program(name)
        assert "holding (" in cli.stdout.readline()
        process.kill()
        assert f"let go: {name} exited (pid {process.pid})" in cli.stdout.readline()
        cli.terminate()
        assert cli.wait(5) == 0
        rest = cli.stdout.read()
        assert "released after" in rest
        assert cli.stderr is not None
        assert f"cocainate: waiting now: no {name} runs" in cli.stderr.read()  # -v
    finally:
        stop(cli)


def test_the_duration_ends_a_watch_that_never_held(bus_env: Desktop) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cocainate", "--while-running", unique(), "-d", "300ms", "--json"],
        env=bus_env.env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["event"] for e in events] == ["waiting", "ended"]
    assert events[1]["reason"] == "duration"
    # counted from the moment the watch began, a moment (the first event's import)
    # before its event was stamped
    assert events[1]["time"] - events[0]["time"] >= 0.29
    assert bus_env.nothing_held()


def test_cli_condition_problems_are_one_line(bus_env: Desktop) -> None:
    for args, status, message in (
        (["--while-running", "a/b"], 2, "invalid process name 'a/b'"),
        (["--while-running"], 2, "expected one argument"),
        (["--only-on-ac"], 1, "cannot tell whether this machine is on AC power"),
    ):
        cli = spawn_cli(*args, env=bus_env.env)
        _out, err = cli.communicate(timeout=10)
        assert cli.returncode == status, (args, err)
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert bus_env.nothing_held()


# -- fullscreen windows -----------------------------------------------------------------

needs_openbox = pytest.mark.skipif(
    not have("Xvfb", "openbox", "wmctrl", "xdotool", "xmessage", "xprop"),
    reason="needs Xvfb, openbox, wmctrl, xdotool, xmessage and xprop (tools/test installs them)",
)


class WindowManager:
    """A real Xvfb with openbox, an EWMH window manager, and real windows (xmessage)."""

    def __init__(self) -> None:
        from conftest import start_xvfb

        self.xvfb, self.display = start_xvfb()
        self.env = dict(os.environ, DISPLAY=self.display)
        self.env.pop("WAYLAND_DISPLAY", None)
        self.children: list[subprocess.Popen[Any]] = []
        self.children.append(
            subprocess.Popen(["openbox", "--sm-disable"], env=self.env, stderr=subprocess.DEVNULL)
        )
        wait_until(lambda: self.run("wmctrl", "-m", check=False).returncode == 0, 10, "openbox")

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, env=self.env, capture_output=True, text=True, timeout=10, check=check
        )

    def window(self, title: str) -> int:
        """A new window titled ``title``, focused; its id."""
        self.children.append(
            subprocess.Popen(
                ["xmessage", "-title", title, "-name", title, title],
                env=self.env,
                stderr=subprocess.DEVNULL,
            )
        )
        found = self.run("xdotool", "search", "--sync", "--name", f"^{title}$")
        window = int(found.stdout.split()[0])
        self.activate(window)
        return window

    def activate(self, window: int) -> None:
        self.run("wmctrl", "-i", "-a", hex(window))
        wait_until(lambda: self.active() == window, 5, f"window {window:#x} to be focused")

    def active(self) -> int:
        return int(self.run("xdotool", "getactivewindow", check=False).stdout.strip() or 0)

    def fullscreen(self, window: int, on: bool) -> None:
        """Ask the window manager; return once the window's state says it is done."""
        self.run("wmctrl", "-i", "-r", hex(window), "-b", f"{'add' if on else 'remove'},fullscreen")

        def done() -> bool:
            state = self.run("xprop", "-id", hex(window), "_NET_WM_STATE", check=False).stdout
            return ("_NET_WM_STATE_FULLSCREEN" in state) == on

        wait_until(done, 5, f"window {window:#x} to be fullscreen={on}")

    def close(self) -> None:
        for child in reversed(self.children):
            stop(child)
        stop(self.xvfb)


@pytest.fixture
def window_manager() -> Iterator[WindowManager]:
    wm = WindowManager()
    try:
        yield wm
    finally:
        wm.close()


@needs_openbox
def test_holds_while_the_focused_window_is_fullscreen_on_x11(
    bus_env: Desktop,
    window_manager: WindowManager,
    monkeypatch: pytest.MonkeyPatch,
    watching: list[Watching],
) -> None:
    monkeypatch.setenv("DISPLAY", window_manager.display)
    wm = window_manager
    first = wm.window(unique())
    w = Watching(conditions=Fullscreen(), methods=["screensaver"])
    watching.append(w)
    assert w.kinds() == ["waiting"]

    wm.fullscreen(first, True)
    assert w.wait_for("acquired").condition == f"window {first:#x} is fullscreen"
    assert bus_env.held()["screensaver"]
    wm.fullscreen(first, False)
    assert w.wait_for("released").condition == "no window is fullscreen"

    wm.fullscreen(first, True)
    w.wait_for("acquired", 2)
    second = wm.window(unique())  # the focus moves to a window that is not fullscreen
    w.wait_for("released", 2)
    wm.activate(first)  # and back
    w.wait_for("acquired", 3)
    wm.run("xdotool", "windowkill", str(first))  # the fullscreen window goes
    w.wait_for("released", 3)
    wm.activate(second)
    time.sleep(0.3)
    assert w.kinds().count("acquired") == 3 and w.session.state == "waiting"


def watch_a_fullscreen_window(
    wm: WindowManager, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, Watching]:
    """A new window, made fullscreen, and a session following it (holding, then)."""
    monkeypatch.setenv("DISPLAY", wm.display)
    window = wm.window(unique())
    wm.fullscreen(window, True)
    return window, Watching(conditions=Fullscreen(), methods=["screensaver"])


@needs_openbox
def test_a_destroyed_window_is_not_fullscreen_while_openbox_still_names_it(
    bus_env: Desktop, window_manager: WindowManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The only window, fullscreen, goes: openbox leaves _NET_ACTIVE_WINDOW naming it
    (no window takes the focus), and it is fullscreen no more."""
    wm = window_manager
    window, w = watch_a_fullscreen_window(wm, monkeypatch)
    try:
        assert w.session.state == "holding"
        wm.run("xdotool", "windowkill", str(window))
        assert w.wait_for("released").condition == "no window is fullscreen"
        assert wm.active() in (window, 0)  # still named (or none): not what decided it
        second = wm.window(unique())  # and the focus is still followed
        wm.fullscreen(second, True)
        assert w.wait_for("acquired", 2).condition == f"window {second:#x} is fullscreen"
    finally:
        w.stop()


@needs_openbox
def test_the_root_window_named_as_focused_does_not_stop_the_following(
    bus_env: Desktop, window_manager: WindowManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some window managers name the root window (the desktop) as focused; others name
    none (0). Either, then a fullscreen window focused: it holds."""
    monkeypatch.setenv("DISPLAY", window_manager.display)
    wm = window_manager
    window = wm.window(unique())
    wm.fullscreen(window, True)
    wm.activate(wm.window(unique()))  # a window that is not fullscreen has the focus
    w = Watching(conditions=Fullscreen(), methods=["screensaver"])
    try:
        root = int(wm.run("xwininfo", "-root").stdout.split("Window id: ")[1].split()[0], 16)
        for named in (root, 0, root):
            wm.run(
                "xprop",
                "-root",
                "-f",
                "_NET_ACTIVE_WINDOW",
                "32x",
                "-set",
                "_NET_ACTIVE_WINDOW",
                hex(named),
            )
            time.sleep(0.1)
        wm.activate(window)
        assert w.wait_for("acquired").condition == f"window {window:#x} is fullscreen"
    finally:
        w.stop()


@needs_openbox
def test_fullscreen_at_start_and_a_server_that_goes(
    bus_env: Desktop, window_manager: WindowManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    wm = window_manager
    _window, w = watch_a_fullscreen_window(wm, monkeypatch)
    try:
        assert w.session.state == "holding"
        stop(wm.xvfb)  # the X server goes: said, and the session ends as it could not start
        lost = w.wait_for("lost")
        assert lost.error == f"lost the X server at {wm.display}"
        assert lost.condition == "a window is fullscreen" and lost.mechanisms == ()
        w.thread.join(5)
        assert w.ended[0].reason is cocainate.EndReason.CONDITION_LOST
        assert isinstance(w.session.failure, ConditionError)
        assert w.kinds() == ["acquired", "lost", "ended", "released"]
        assert bus_env.nothing_held()
    finally:
        w.stop()


@needs_openbox
def test_the_cli_ends_with_status_1_when_the_x_server_goes(
    bus_env: Desktop, window_manager: WindowManager
) -> None:
    """As at start, where it cannot be watched: a user unit's Restart=on-failure then
    starts it again once a display is back."""
    env = dict(bus_env.env, DISPLAY=window_manager.display)
    cli = spawn_cli("--while-fullscreen", "--method", "screensaver", env=env)
    assert cli.stdout is not None
    assert "waiting" in cli.stdout.readline()
    stop(window_manager.xvfb)
    _out, err = cli.communicate(timeout=10)
    assert cli.returncode == 1, err
    assert err == f"cocainate: lost the X server at {window_manager.display}\n"


def test_fullscreen_without_a_display(bus_env: Desktop) -> None:
    with pytest.raises(ConditionError, match="neither WAYLAND_DISPLAY nor DISPLAY is set"):
        Session(conditions=Fullscreen()).start()
    assert bus_env.nothing_held()


@pytest.mark.skipif(not have("sway", "swaymsg"), reason="needs sway (tools/test installs it)")
def test_holds_while_the_focused_window_is_fullscreen_on_sway() -> None:
    """wlr-foreign-toplevel-management on a real headless sway, with real client windows
    made fullscreen by swaymsg; what holds is the Wayland inhibitor itself."""
    pytest.importorskip("pywayland")
    from sway import Sway

    sway = Sway()
    windows: list[subprocess.Popen[str]] = []
    cli = None
    try:
        window = str(Path(__file__).parent / "wayland_window.py")

        def open_window(app_id: str) -> None:
            process = subprocess.Popen(
                [sys.executable, window, app_id], env=sway.env, stdout=subprocess.PIPE, text=True
            )
            windows.append(process)
            assert process.stdout is not None and process.stdout.readline().strip() == "mapped"

        def swaymsg(command: str) -> None:
            subprocess.run(["swaymsg", "-s", sway.ipc, command], check=True, capture_output=True)

        open_window("film")
        cli = spawn_cli("--while-fullscreen", "--method", "wayland", "--json", env=sway.env)
        assert cli.stdout is not None
        assert json.loads(cli.stdout.readline())["event"] == "waiting"
        swaymsg("[app_id=film] fullscreen enable")
        acquired = json.loads(cli.stdout.readline())
        assert acquired["event"] == "acquired" and acquired["mechanisms"] == ["wayland"]
        assert acquired["condition"] == "film is fullscreen"
        swaymsg("[app_id=film] fullscreen disable")
        released = json.loads(cli.stdout.readline())
        assert released["event"] == "released"
        assert released["condition"] == "no window is fullscreen"
        swaymsg("[app_id=film] fullscreen enable")
        assert json.loads(cli.stdout.readline())["event"] == "acquired"
        windows[0].kill()  # the fullscreen window goes
        windows[0].wait()
        assert json.loads(cli.stdout.readline())["event"] == "released"
        cli.terminate()
        assert [json.loads(line)["event"] for line in cli.stdout] == ["ended"]
        assert cli.wait(5) == 0
    finally:
        if cli is not None:
            stop(cli)
        for process in windows:
            stop(process)
        sway.close()


@pytest.mark.skipif(not have("sway", "swaymsg"), reason="needs sway (tools/test installs it)")
def test_the_compositor_going_away_ends_the_watch_with_status_1() -> None:
    pytest.importorskip("pywayland")
    from sway import Sway

    sway = Sway()
    cli = None
    try:
        cli = spawn_cli("--while-fullscreen", "--method", "wayland", "--json", env=sway.env)
        assert cli.stdout is not None
        assert json.loads(cli.stdout.readline())["event"] == "waiting"
        sway.close()
        out, err = cli.communicate(timeout=10)
        events = [json.loads(line) for line in out.splitlines()]
        assert [e["event"] for e in events] == ["lost", "ended"]
        assert events[0]["error"] == f"lost the Wayland compositor at {sway.display}"
        assert events[0]["condition"] == "a window is fullscreen"
        assert events[1]["reason"] == "condition-lost"
        assert cli.returncode == 1, err
    finally:
        if cli is not None:
            stop(cli)
        sway.close()


def test_a_scan_reads_only_the_pids_handed_out_since_the_last(
    program: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between two full reads of /proc, a new process is found from /proc/loadavg's last
    PID alone; a full read comes back when the PIDs wrap around."""
    from cocainate.watchers import process as module

    lister = module._ProcProcesses()
    name = unique()
    assert lister.matching([name]) == []  # the first scan: a full read
    listed: list[str] = []
    real_listdir = os.listdir

    def listdir(path: str) -> list[str]:
        listed.append(path)
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", listdir)
    started = program(name)
    assert lister.matching([name]) == [(started.pid, name)]
    assert listed == []  # found without listing /proc
    monkeypatch.setattr(module, "_last_pid", lambda: 1)  # wrapped around
    assert lister.matching([name]) == [(started.pid, name)]
    assert listed == ["/proc"]


def test_nothing_to_hold_when_a_condition_calls_for_it_ends_the_session(
    fresh_bus: Bus, program: Any, watching: list[Watching]
) -> None:
    """An empty bus: waiting works, but the hold a process calls for cannot be made, so the
    session ends (FAILED) saying what was tried, on the command line exit status 3."""
    name = unique()
    w = Watching(conditions=ProcessRunning(name, interval=0.1), methods=["screensaver"])
    watching.append(w)
    assert w.session.state == "waiting"
    program(name)
    w.thread.join(5)
    assert w.ended[0].reason == cocainate.EndReason.FAILED
    assert isinstance(w.session.failure, cocainate.NoMechanismError)
    assert w.kinds() == ["waiting", "ended"]

    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=fresh_bus.address)
    cli = spawn_cli("--while-running", name, "--method", "screensaver", env=env)
    _out, err = cli.communicate(timeout=10)
    assert cli.returncode == 3, err
    assert err.splitlines()[0] == "cocainate: nothing could keep this machine awake:"
    assert err.splitlines()[1].startswith("  screensaver: ")


def test_wait_async_follows_the_conditions(bus_env: Desktop, program: Any) -> None:
    import asyncio

    name = unique()

    async def main() -> cocainate.Ended:
        seen: list[str] = []
        session = Session(
            conditions=ProcessRunning(name, interval=0.1), on_event=lambda e: seen.append(e.kind)
        ).start()
        task = asyncio.ensure_future(session.wait_async())

        async def until(kind: str) -> None:
            for _ in range(500):
                if kind in seen:
                    return
                await asyncio.sleep(0.01)
            raise AssertionError(f"no {kind}: {seen}")

        process = program(name)
        await until("acquired")
        assert bus_env.held()["screensaver"]
        process.kill()
        process.wait()
        await until("released")
        session.stop()
        return await task

    assert asyncio.run(main()).reason == cocainate.EndReason.STOPPED


def test_a_watcher_that_fails_stops_watching_and_the_session_goes_on(
    bus_env: Desktop, program: Any, watching: list[Watching], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cocainate.watchers.process import ProcessWatcher

    def broken(self: ProcessWatcher) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(ProcessWatcher, "exited", broken)
    name = unique()
    process = program(name)
    w = Watching(conditions=ProcessRunning(name), duration=30)
    watching.append(w)
    assert w.session.state == "holding"
    process.kill()
    process.wait()
    released = w.wait_for("released")
    assert released.condition == "stopped watching: unexpected RuntimeError: a bug"
    assert w.session.state == "waiting" and w.thread.is_alive()
    assert "stopped watching: unexpected RuntimeError: a bug (a bug in cocainate)" in (
        w.session.problems
    )


def test_a_command_runs_while_the_session_waits(bus_env: Desktop) -> None:
    """-- COMMAND with a condition that is not met: the command's PID is watched all the
    same, and its exit ends the session with its status."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cocainate",
            "--while-running",
            unique(),
            "--",
            "sh",
            "-c",
            "exit 7",
        ],
        env=bus_env.env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 7, done.stderr
    assert "released after" in done.stderr and "(sh exited)" in done.stderr


@needs_mpv
def test_media_is_followed_across_a_bus_that_restarts(
    fresh_bus: Bus, watching: list[Watching]
) -> None:
    """The watcher's own connection breaks with the bus: nothing plays as far as it can
    tell, so it lets go; it reconnects when the bus is back and follows the players there."""
    from buses import StandIn

    StandIn(fresh_bus, "screensaver")
    start_mpv(fresh_bus)
    wait_until(lambda: _status(fresh_bus) == "Playing", 10, "mpv to play")
    w = Watching(conditions=MediaPlaying(), methods=["screensaver"])
    watching.append(w)
    assert w.session.state == "holding"
    fresh_bus.kill()  # the daemon, mpv and the service with it
    assert w.wait_for("released").condition == "no media plays"
    fresh_bus.restart()
    service = StandIn(fresh_bus, "screensaver")
    start_mpv(fresh_bus)
    assert w.wait_for("acquired", 2, timeout=15).condition == "mpv plays"
    wait_until(service.inhibitors, 5, "the inhibit on the new bus")


def test_upower_restarting_keeps_the_last_word_then_is_asked_again(
    bus_env: Desktop, watching: list[Watching]
) -> None:
    upower = UPower(bus_env.system_bus, on_battery=False)
    try:
        w = Watching(only_on_ac=True)
        watching.append(w)
        assert w.session.state == "holding"
        upower.stop()  # UPower leaves: said, and what it said last stands
        lost = w.wait_for("lost")
        assert lost.condition == "on mains power" and lost.error == (
            "UPower left the system bus; going by what it said last (on mains power) "
            "until it is back"
        )
        assert w.session.state == "holding" and w.kinds() == ["acquired", "lost"]
        upower = UPower(bus_env.system_bus, on_battery=True)  # back, and on battery now
        assert w.wait_for("released").condition == "on battery"
    finally:
        upower.stop()
