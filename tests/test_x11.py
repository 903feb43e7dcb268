"""The X11 mechanism against a real Xvfb: the screensaver stays off while cocainate holds.

The X server is told `xset s 2 2` (blank after 2 s idle); the saver's state is read through
XScreenSaverQueryInfo on a connection of the test's own.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

import cocainate
from buses import have, wait_until
from cocainate.bindings.buses import Resources
from cocainate.mechanisms import x11

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
    assert mechanism.probe() == "cannot open X display :4242"
    monkeypatch.delenv("DISPLAY")
    assert mechanism.probe() == "DISPLAY is not set (not an X11 session)"


class FakeXLib:
    """A fake of the Xlib/DPMS call layer: Xvfb has no DPMS extension, so the DPMS path is
    checked against recorded calls instead of a real server."""

    def __init__(self, dpms: bool | None, version: tuple[int, int] | None = (1, 1)) -> None:
        self.dpms, self.version, self.calls = dpms, version, []  # type: ignore[var-annotated]

    def open(self, name: str) -> int:
        self.calls.append(("open", name))
        return 7

    def close(self, display: int) -> None:
        self.calls.append(("close",))

    def flush(self, display: int) -> None:
        self.calls.append(("flush",))

    def saver_version(self, display: int) -> tuple[int, int] | None:
        return self.version

    def suspend(self, display: int, suspend: bool) -> None:
        self.calls.append(("suspend", suspend))

    def dpms_enabled(self, display: int) -> bool | None:
        return self.dpms

    def dpms_set(self, display: int, enabled: bool) -> None:
        self.calls.append(("dpms", enabled))
        self.dpms = enabled


@pytest.mark.parametrize("ending", ["stop", "exception", "signal"])
def test_dpms_is_disabled_and_restored_on_every_path(
    monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    fake = FakeXLib(dpms=True)
    monkeypatch.setattr(x11, "_xlib", fake)
    monkeypatch.setenv("DISPLAY", ":0")
    session = cocainate.Session(methods=["x11"], handle_signals=ending == "signal")
    if ending == "exception":
        with pytest.raises(RuntimeError), session:
            assert fake.dpms is False
            raise RuntimeError
    elif ending == "signal":
        session.start()
        os.kill(os.getpid(), signal.SIGTERM)
        session.wait()
    else:
        session.start()
        session.stop()
    assert fake.calls == [
        ("open", ":0"),
        ("suspend", True),
        ("dpms", False),
        ("flush",),
        ("dpms", True),
        ("suspend", False),
        ("close",),
    ]
    assert fake.dpms is True


def test_dpms_left_alone_when_the_user_disabled_it(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeXLib(dpms=False)
    monkeypatch.setattr(x11, "_xlib", fake)
    monkeypatch.setenv("DISPLAY", ":0")
    with cocainate.inhibit(methods=["x11"]):
        pass
    assert ("dpms", True) not in fake.calls and ("dpms", False) not in fake.calls


def test_an_old_extension_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(x11, "_xlib", FakeXLib(dpms=None, version=(1, 0)))
    monkeypatch.setenv("DISPLAY", ":0")
    reason = x11.X11ScreenSaver(Resources()).probe()
    assert reason == "the X server's MIT-SCREEN-SAVER is version 1.0; 1.1 is needed"
    with pytest.raises(cocainate.NoMechanismError, match=r"version 1\.0"):
        cocainate.Session(methods=["x11"]).start()


def test_a_missing_library_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes.util

    from cocainate.mechanisms import _xlib

    monkeypatch.setitem(_xlib._SONAMES, "Xss", ("libXss-not-here.so.1",))
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    monkeypatch.setattr(x11, "_xlib", None)
    monkeypatch.setenv("DISPLAY", ":0")
    reason = x11.X11ScreenSaver(Resources()).probe()
    assert reason == "libXss is not installed (Debian/Ubuntu: libxss1)"
