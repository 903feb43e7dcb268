from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cocainate.core.signals import HANDLED as SIGNALS
from timeouts import (  # noqa: F401  (pytest finds hooks by their name here)
    pytest_configure,
    pytest_runtest_call,
    pytest_runtest_setup,
    pytest_runtest_teardown,
    pytest_sessionfinish,
    pytest_unconfigure,
)

# The bus, X11 and Wayland tests need Linux with dbus-daemon (and jeepney, which cocainate
# installs only where D-Bus is). Elsewhere the native tests and the fakes run instead.
LINUX_WITH_DBUS = sys.platform.startswith("linux") and shutil.which("dbus-daemon") is not None
collect_ignore = (
    []
    if LINUX_WITH_DBUS
    else [
        "test_mechanisms.py",
        "test_session.py",
        "test_cli.py",
        "test_real_daemons.py",
        "test_x11.py",
        "test_wayland.py",
        "test_macos_fake.py",
    ]
)
if LINUX_WITH_DBUS:
    from buses import Bus, Logind, Logins, StandIn, stop, wait_until

# The tests are about what cocainate does with these signals. A run that a shell without
# job control put in the background inherits SIGINT and SIGQUIT ignored (nohup: SIGHUP),
# and would pass that on to every cocainate it starts, which keeps them ignored, rightly
# (test_cli's test_a_signal_ignored_at_start_stays_ignored): start from the defaults.
for _signum in SIGNALS:
    if signal.getsignal(_signum) == signal.SIG_IGN:
        default = signal.default_int_handler if _signum == signal.SIGINT else signal.SIG_DFL
        signal.signal(_signum, default)


@pytest.fixture(autouse=True)
def signals_left_as_found() -> Iterator[None]:
    """Each test leaves the signal handlers and the wakeup fd as it found them: a leaked
    handler fails the test that leaked it (and is put back), not a later one by a hang."""
    before = {signum: signal.getsignal(signum) for signum in SIGNALS}
    yield
    changed = [signum for signum in SIGNALS if signal.getsignal(signum) != before[signum]]
    for signum in changed:
        signal.signal(signum, before[signum])
    wakeup = signal.set_wakeup_fd(-1)
    assert not changed, f"handlers left changed: {changed}"
    assert wakeup == -1, f"the wakeup fd was left set: {wakeup}"


@pytest.fixture(autouse=True)
def no_thread_left_running() -> Iterator[None]:
    """Each test ends the threads it started: a thread left running fails the test that
    left it, rather than keeping pytest from exiting once every test has passed."""
    before = set(threading.enumerate())
    yield
    give_up = time.monotonic() + 3
    left = [t for t in threading.enumerate() if t not in before and not t.daemon]
    while left and time.monotonic() < give_up:
        left[0].join(give_up - time.monotonic())
        left = [t for t in left if t.is_alive()]
    assert not left, f"threads left running: {[t.name for t in left]}"


class Desktop:
    """A private session bus with the three desktop services, and a private system bus
    with logind, as a user's machine would have them."""

    def __init__(self, root: Path) -> None:
        self.system_bus = Bus(root / "system", "system")
        self.session_bus = Bus(root / "session", "session")
        self.logind = Logind(self.system_bus)
        self.screensaver = StandIn(self.session_bus, "screensaver")
        # as gnome-session does: a logind sleep lock of its own for the suspend flag
        self.gnome = StandIn(self.session_bus, "gnome", "--logind", self.system_bus.address)
        self.power = StandIn(self.session_bus, "power")
        self.services = (self.screensaver, self.gnome, self.power)

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DBUS_SESSION_BUS_ADDRESS"] = self.session_bus.address
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.system_bus.address
        for display in ("DISPLAY", "WAYLAND_DISPLAY"):  # display servers have tests of their own
            env.pop(display, None)
        return env

    def held(self) -> dict[str, list[Any]]:
        """Every inhibit held anywhere, by service (empty lists when nothing is held)."""
        held: dict[str, list[Any]] = {s.kind: s.inhibitors() for s in self.services}
        held["logind"] = self.logind.inhibitors()
        return held

    def nothing_held(self) -> bool:
        return not any(self.held().values())

    def reset(self) -> None:
        for service in self.services:
            service.reset()

    def close(self) -> None:
        self.session_bus.close()
        self.system_bus.close()


@pytest.fixture(scope="session")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    d = Desktop(tmp_path_factory.mktemp("desktop"))
    try:
        yield d
    finally:
        d.close()


@pytest.fixture
def bus_env(desktop: Desktop, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desktop]:
    """The desktop's buses in this process's environment; afterwards, nothing may be held."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", desktop.session_bus.address)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", desktop.system_bus.address)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    desktop.reset()
    yield desktop
    wait_until(desktop.nothing_held, 3, "every inhibit to be released")


@pytest.fixture
def fresh_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bus]:
    """An empty private session bus for this test alone; no system bus."""
    bus = Bus(tmp_path / "bus", "session")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=" + str(tmp_path / "no-system-bus"))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    try:
        yield bus
    finally:
        bus.close()


@pytest.fixture(scope="session")
def x_display() -> Iterator[str]:
    """A real Xvfb on a display number it picks itself; -noreset keeps xset settings."""
    xvfb, display = start_xvfb()
    try:
        yield display
    finally:
        stop(xvfb)


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """A real Xvfb of the caller's own, and its DISPLAY; the caller stops it."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write),
            "-screen",
            "0",
            "640x480x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ],
        pass_fds=[write],
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as lines:
        number = lines.readline().strip()
    assert number, "Xvfb did not report a display"
    return xvfb, f":{number}"


def named_program(directory: Path, prefix: str, config: str = "") -> tuple[str, Any]:
    """A process of a name of its own (a copy of sleep, for a minute), for --while-running;
    with ``config``, a watch config file under ``directory`` (XDG_CONFIG_HOME) whose
    while-running names it, followed by ``config``."""
    name = prefix + str(directory.stat().st_ino)[-6:]
    shutil.copy(shutil.which("sleep") or "/bin/sleep", directory / name)
    if config:
        (directory / "cocainate").mkdir(exist_ok=True)
        text = f'while-running = ["{name}"]\n{config}'
        (directory / "cocainate" / "config.toml").write_text(text)
    return name, subprocess.Popen([str(directory / name), "60"])


def spawn_cli(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cocainate", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 20, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cocainate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[Any]]]:
    """Processes a test starts; killed whatever the outcome, so none is left behind."""
    started: list[subprocess.Popen[Any]] = []
    yield started
    for child in started:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=60)


def signal_from_another_thread(signum: int) -> threading.Thread:
    """Once the main thread sleeps, raise ``signum`` in a thread of its own: the OS
    delivers it there, so the main thread's sleep is not interrupted, and Python runs the
    handler in the main thread only once it runs Python code again (or the signal arrived
    just before the main thread went to sleep: the same, by chance)."""
    main = threading.main_thread().native_id

    def raise_here() -> None:
        from buses import wait_until

        stat = f"/proc/self/task/{main}/stat"
        wait_until(lambda: Path(stat).read_text().rsplit(")", 1)[1].split()[0] == "S", 10, "sleep")
        signal.pthread_kill(threading.get_ident(), signum)

    thread = threading.Thread(target=raise_here)
    thread.start()
    return thread


@pytest.fixture
def logins(bus_env: Desktop) -> Iterator[Logins]:
    made = Logins(bus_env)
    try:
        yield made
    finally:
        for _number, path in list(made.made):
            made.remove(path)
