"""The X11 mechanism against a real Xvfb: the screensaver stays off while cocainate holds.

The X server is told `xset s 2 2` (blank after 2 s idle); the saver's state is read through
XScreenSaverQueryInfo on a connection of the test's own.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import cocainate
from buses import have, stop, wait_until
from cocainate.bindings.buses import Resources
from cocainate.mechanisms import x11
from conftest import Desktop, run_cli, spawn_cli, start_xvfb
from xserver import FakeXServer

pytestmark = pytest.mark.skipif(not have("Xvfb", "xset"), reason="needs Xvfb and xset")

SAVER_OFF, SAVER_ON = 0, 1


class SaverInfo(ctypes.Structure):
    _fields_ = [
        ("window", ctypes.c_ulong),
        ("state", ctypes.c_int),
        ("kind", ctypes.c_int),
        ("til_or_since", ctypes.c_ulong),
        ("idle", ctypes.c_ulong),
        ("event_mask", ctypes.c_ulong),
    ]


class Observer:
    """A client of the test's own that reads the screensaver's state."""

    def __init__(self, display: str) -> None:
        self.x11 = ctypes.CDLL(ctypes.util.find_library("X11"))
        self.xss = ctypes.CDLL(ctypes.util.find_library("Xss"))
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x11.XDefaultRootWindow.restype = ctypes.c_ulong
        self.x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        self.x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.xss.XScreenSaverQueryInfo.argtypes = [
            ctypes.c_void_p,
            ctypes.c_ulong,
            ctypes.POINTER(SaverInfo),
        ]
        self.dpy = self.x11.XOpenDisplay(display.encode())
        assert self.dpy
        self.root = self.x11.XDefaultRootWindow(self.dpy)

    def info(self) -> SaverInfo:
        info = SaverInfo()
        assert self.xss.XScreenSaverQueryInfo(self.dpy, self.root, ctypes.byref(info))
        return info

    def close(self) -> None:
        self.x11.XCloseDisplay(self.dpy)


@pytest.fixture(scope="module")
def display(x_display: str) -> str:
    subprocess.run(["xset", "-display", x_display, "s", "2", "2"], check=True)
    return x_display


@pytest.fixture
def observer(display: str) -> Iterator[Observer]:
    obs = Observer(display)
    subprocess.run(["xset", "-display", display, "s", "reset"], check=True)
    wait_until(lambda: obs.info().state == SAVER_OFF, 2, "the saver to be off")
    yield obs
    obs.close()


def cocainate_on(display: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
    env.update(DISPLAY=display, DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent")
    process = subprocess.Popen(
        [sys.executable, "-m", "cocainate", "--method", "x11"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "(x11)" in line, line + (process.stderr.read() if process.stderr else "")
    return process


def test_without_cocainate_the_saver_comes_on(observer: Observer) -> None:
    """The control: this setup does blank, so the tests below can fail."""
    wait_until(lambda: observer.info().state == SAVER_ON, 5, "the saver to come on")


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_saver_stays_off_while_held_and_comes_on_after(
    observer: Observer, display: str, how: int
) -> None:
    process = cocainate_on(display)
    time.sleep(3.5)
    info = observer.info()
    assert info.state == SAVER_OFF
    assert info.idle >= 3000  # idle, yet not blanked
    process.send_signal(how)
    process.communicate(timeout=10)
    wait_until(lambda: observer.info().state == SAVER_ON, 5, "the saver to come on after release")


def test_probe_reasons(monkeypatch: pytest.MonkeyPatch, display: str) -> None:
    resources = Resources()
    mechanism = x11.X11ScreenSaver(resources)
    monkeypatch.setenv("DISPLAY", display)
    assert mechanism.probe() is None
    monkeypatch.setenv("DISPLAY", ":4242")
    assert mechanism.probe() == "cannot connect to X display :4242: Connection refused"
    monkeypatch.setenv("DISPLAY", "nonsense")
    assert mechanism.probe() == ("DISPLAY 'nonsense' is not of the form [host]:number[.screen]")
    monkeypatch.delenv("DISPLAY")
    assert mechanism.probe() == "DISPLAY is not set (not an X11 session)"


# -- against the stand-in server: DPMS, old servers, hung servers -------------------------


@pytest.fixture
def fake_x(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeXServer]:
    server = FakeXServer(tmp_path)
    monkeypatch.setenv("DISPLAY", server.display)
    yield server
    server.close()


@pytest.mark.parametrize("ending", ["stop", "exception", "signal"])
def test_dpms_is_disabled_and_restored_on_every_path(fake_x: FakeXServer, ending: str) -> None:
    session = cocainate.Session(methods=["x11"], handle_signals=ending == "signal")
    if ending == "exception":
        with pytest.raises(RuntimeError), session:
            wait_until(lambda: fake_x.dpms is False, 2, "DPMS to be disabled")
            raise RuntimeError
    elif ending == "signal":
        session.start()
        os.kill(os.getpid(), signal.SIGTERM)
        session.wait()
    else:
        session.start()
        session.stop()
    wait_until(lambda: fake_x.open == 0, 2, "the connection to close")
    assert fake_x.calls == [
        ("QueryExtension", "MIT-SCREEN-SAVER"),
        ("QueryExtension", "DPMS"),
        ("Suspend", 1),
        ("DPMS", False),
        ("DPMS", True),
        ("Suspend", 0),
    ]
    assert fake_x.dpms is True


def test_dpms_left_alone_when_the_user_disabled_it(fake_x: FakeXServer) -> None:
    fake_x.dpms = False
    with cocainate.inhibit(methods=["x11"]):
        pass
    wait_until(lambda: fake_x.open == 0, 2, "the connection to close")
    assert not [c for c in fake_x.calls if c[0] == "DPMS"]


@pytest.mark.parametrize(("saver", "found"), [((1, 0), "version 1.0"), (None, "absent")])
def test_an_old_or_absent_extension_is_refused(
    fake_x: FakeXServer, saver: tuple[int, int] | None, found: str
) -> None:
    fake_x.saver = saver
    reason = x11.X11ScreenSaver(Resources()).probe()
    assert reason == f"the X server's MIT-SCREEN-SAVER is {found}; 1.1 is needed"
    with pytest.raises(cocainate.NoMechanismError, match=found.replace(".", r"\.")):
        cocainate.Session(methods=["x11"]).start()


def test_an_x_server_that_never_answers_fails_x11_alone_and_on_time(
    bus_env: Desktop, fake_x: FakeXServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that accepts and never replies: x11 fails after its 2 s limit, the D-Bus
    mechanisms hold, and the duration still ends the session on time, every one released."""
    fake_x.answer = False
    monkeypatch.setenv("DISPLAY", fake_x.display)
    begin = time.monotonic()
    session = cocainate.Session(duration=0.3).start()
    started = time.monotonic() - begin
    assert 2.0 <= started < 3.0
    (failed,) = [a for a in session.attempts if a.name == "x11"]
    assert not failed.held and failed.error == "the X server at " + fake_x.display + (
        " did not answer within 2 s"
    )
    assert set(session.holding) == {"screensaver", "gnome-session", "power-management", "logind"}
    assert session.wait().reason is cocainate.EndReason.DURATION
    assert time.monotonic() - begin - started < 1.0
    assert bus_env.nothing_held()
    assert fake_x.open == 0, "the hung connection was left open"


def test_a_server_that_goes_away_is_lost_not_fatal(
    fake_x: FakeXServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cocainate.core import holdings

    monkeypatch.setattr(holdings, "LOST_GRACE", 0.3)
    events: list[cocainate.Event] = []
    with cocainate.Session(methods=["x11"], on_event=events.append) as session:
        fake_x.close()
        ended = session.wait(timeout=5)
    assert ended is not None and ended.reason is cocainate.EndReason.LOST
    assert [e.kind for e in events] == ["acquired", "lost", "ended", "released"]
    assert events[1].error == "x11: lost the connection to the X server"


# -- a real X server that freezes or dies ---------------------------------------------------


def accepts(display: str) -> bool:
    from cocainate.bindings.x11 import XConnection
    from cocainate.errors import MechanismError

    try:
        XConnection(display).close()
    except MechanismError:
        return False
    return True


@pytest.fixture
def own_xvfb() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    xvfb, display = start_xvfb()
    wait_until(lambda: accepts(display), 5, "Xvfb to accept clients")
    yield xvfb, display
    if xvfb.poll() is None:
        xvfb.send_signal(signal.SIGCONT)
    stop(xvfb)


def test_a_frozen_x_server_never_holds_the_session_hostage(
    bus_env: Desktop, own_xvfb: tuple[subprocess.Popen[bytes], str]
) -> None:
    """Xvfb stopped (SIGSTOP) while cocainate holds it: SIGTERM still ends the session at
    once, every D-Bus inhibit released with its UnInhibit."""
    xvfb, display = own_xvfb
    process = spawn_cli(env=dict(bus_env.env, DISPLAY=display))
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "x11" in line, line
    xvfb.send_signal(signal.SIGSTOP)
    begin = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=10)
    assert time.monotonic() - begin < 1.0, err
    assert process.returncode == 0, err
    assert bus_env.nothing_held()
    assert all(
        len(s.calls("UnInhibit" if s.kind != "gnome" else "Uninhibit")) == 1
        for s in bus_env.services
    )


def test_a_frozen_x_server_at_start_fails_x11_alone(
    bus_env: Desktop, own_xvfb: tuple[subprocess.Popen[bytes], str]
) -> None:
    xvfb, display = own_xvfb
    xvfb.send_signal(signal.SIGSTOP)
    begin = time.monotonic()
    result = run_cli("-v", "-d", "500ms", env=dict(bus_env.env, DISPLAY=display))
    took = time.monotonic() - begin
    assert result.returncode == 0, result.stderr
    assert "x11 [X11 MIT-SCREEN-SAVER]: not held: the X server at" in result.stderr
    assert "did not answer within 2 s" in result.stderr
    assert "logind [org.freedesktop.login1]: held" in result.stderr
    assert took < 4.0  # 2 s for the X server, 0.5 s of holding, start-up


def test_an_x_server_that_dies_is_a_lost_event_and_dbus_still_releases(
    bus_env: Desktop, own_xvfb: tuple[subprocess.Popen[bytes], str]
) -> None:
    xvfb, display = own_xvfb
    process = spawn_cli("--json", env=dict(bus_env.env, DISPLAY=display))
    assert process.stdout is not None
    acquired = json.loads(process.stdout.readline())
    assert "x11" in acquired["mechanisms"]
    xvfb.kill()
    xvfb.wait()
    lost = json.loads(process.stdout.readline())
    assert lost["event"] == "lost" and lost["mechanisms"] == ["x11"]
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "Traceback" not in err and "XIO" not in err
    assert [json.loads(x)["event"] for x in out.splitlines()] == ["ended", "released"]
    assert len(bus_env.screensaver.calls("UnInhibit")) == 1
    assert bus_env.nothing_held()


def test_only_x11_and_the_server_dies_exits_4(
    own_xvfb: tuple[subprocess.Popen[bytes], str],
) -> None:
    xvfb, display = own_xvfb
    process = cocainate_on(display)
    xvfb.kill()
    xvfb.wait()
    _, err = process.communicate(timeout=15)
    assert process.returncode == 4, err
    assert "lost x11" in err


def test_methods_is_bounded_by_a_mute_x_server(fake_x: FakeXServer) -> None:
    """``methods`` probes the X server too: one that never answers costs its 2 s limit."""
    fake_x.answer = False
    env = dict(os.environ, DISPLAY=fake_x.display, DBUS_SESSION_BUS_ADDRESS="unix:path=/none")
    env.pop("WAYLAND_DISPLAY", None)
    begin = time.monotonic()
    result = run_cli("methods", env=env)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - begin < 4.0
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("x11")]
    assert line.endswith(
        "not usable: the X server at " + fake_x.display + " did not answer within 2 s"
    )
