"""cocainate against real desktop daemons that run headless here, under Xvfb on private buses.

- mate-session implements org.gnome.SessionManager; IsInhibited(8) is the proof.
- xscreensaver's xscreensaver-systemd helper implements org.freedesktop.ScreenSaver; its
  --verbose log says "inhibited by" and "uninhibited by".
Both need a system bus with logind on it (python-dbusmock's template) to start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from buses import Bus, Logind, have, stop, wait_until
from conftest import spawn_cli

pytestmark = pytest.mark.skipif(
    not have("Xvfb", "mate-session", "xscreensaver"),
    reason="needs Xvfb, mate-session and xscreensaver (.ci/run installs them)",
)


class Machine:
    """Xvfb first, then the private buses, so that what they start inherits DISPLAY."""

    def __init__(self, root: Path, display: str) -> None:
        self.root = root
        self.system = Bus(root / "system", "system")
        Logind(self.system)
        self.session = Bus(root / "session", "session")
        self.env = dict(
            os.environ,
            DISPLAY=display,
            HOME=str(root),
            XDG_CONFIG_HOME=str(root / "config"),
            DBUS_SESSION_BUS_ADDRESS=self.session.address,
            DBUS_SYSTEM_BUS_ADDRESS=self.system.address,
        )
        self.groups: list[subprocess.Popen[str]] = []

    def daemon(self, argv: list[str], name: str, log: Path) -> None:
        with log.open("w") as stderr:
            process = self.session.spawn(
                argv,
                name=name,
                env=self.env,
                stderr=stderr,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.groups.append(process)

    def cocainate(self, *args: str) -> subprocess.Popen[str]:
        return spawn_cli(*args, env=self.env)

    def close(self) -> None:
        for process in self.groups:  # the daemons' helpers (keyring, systemd helper) too
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            stop(process)
        self.session.close()
        self.system.close()


@pytest.fixture
def machine(tmp_path: Path, x_display: str) -> Iterator[Machine]:
    m = Machine(tmp_path, x_display)
    try:
        yield m
    finally:
        m.close()


def is_inhibited(machine: Machine, flags: int) -> bool:
    return bool(
        machine.session.call(
            "org.gnome.SessionManager",
            "/org/gnome/SessionManager",
            "org.gnome.SessionManager",
            "IsInhibited",
            "u",
            (flags,),
        )[0]
    )


@pytest.fixture
def mate(machine: Machine) -> Machine:
    settings = machine.root / "config" / "glib-2.0" / "settings"
    settings.mkdir(parents=True)
    # No panel, file manager, keyring or autostart programs: only the session manager.
    (settings / "keyfile").write_text(
        "[org/mate/session]\nrequired-components-list=@as []\ngnome-compat-startup=@as []\n"
    )
    machine.env.update(GSETTINGS_BACKEND="keyfile", XDG_CONFIG_DIRS=str(machine.root / "none"))
    autostart = machine.root / "autostart"
    autostart.mkdir()
    machine.daemon(
        ["mate-session", "-a", str(autostart)],
        "org.gnome.SessionManager",
        machine.root / "mate-session.log",
    )
    return machine


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_mate_session_is_inhibited_while_held(mate: Machine, how: str) -> None:
    assert not is_inhibited(mate, 8)
    process = mate.cocainate("--method", "gnome-session")
    assert process.stdout is not None
    assert "(gnome-session)" in process.stdout.readline()
    # the idle flag alone: a suspend flag would block the suspend a person asks for
    assert is_inhibited(mate, 8) and not is_inhibited(mate, 4)
    # (MATE takes no logind lock for the flag; gnome-session does: see test_session)
    assert not [lock for lock in sleep_locks(mate) if "sleep" in lock[0].split(":")]
    status = subprocess.run(
        [sys.executable, "-m", "cocainate", "status"], env=mate.env, capture_output=True, text=True
    ).stdout
    (row,) = [line for line in status.splitlines() if line.startswith("gnome-session ")]
    assert "org.gnome.SessionManager" in row and row.endswith("1 held")
    assert "    idle by cocainate: 'cocainate is keeping the display awake'" in status
    process.send_signal(getattr(signal, how))
    process.communicate(timeout=10)
    wait_until(lambda: not is_inhibited(mate, 8), 3, "mate-session to drop the inhibit")
    assert not is_inhibited(mate, 4)


def sleep_locks(machine: Machine) -> list[tuple[str, ...]]:
    """logind's locks, as (what, who, why, mode)."""
    rows = machine.system.call(
        "org.freedesktop.login1",
        "/org/freedesktop/login1",
        "org.freedesktop.login1.Manager",
        "ListInhibitors",
    )[0]
    return [tuple(row[:4]) for row in rows]


def test_mate_session_system_mode_blocks_only_suspend(mate: Machine) -> None:
    process = mate.cocainate("--mode", "system", "--method", "gnome-session")
    assert process.stdout is not None
    process.stdout.readline()
    assert is_inhibited(mate, 4) and not is_inhibited(mate, 8)
    process.terminate()
    process.communicate(timeout=10)
    assert not is_inhibited(mate, 4)


@pytest.mark.parametrize(
    ("how", "released"),
    [
        ("SIGINT", 'uninhibited by "cocainate"'),
        ("SIGKILL", 'app "cocainate" has died: uninhibiting'),
    ],
)
def test_xscreensaver_is_inhibited_while_held(machine: Machine, how: str, released: str) -> None:
    log = machine.root / "xscreensaver.log"
    machine.daemon(["xscreensaver", "-no-splash", "-verbose"], "org.freedesktop.ScreenSaver", log)
    process = machine.cocainate("--method", "screensaver", "--reason", "real daemon test")
    assert process.stdout is not None
    assert "(screensaver)" in process.stdout.readline()
    wait_until(lambda: 'inhibited by "cocainate"' in log.read_text(), 5, "xscreensaver to log it")
    assert '"real daemon test"' in log.read_text()
    process.send_signal(getattr(signal, how))
    process.communicate(timeout=10)
    wait_until(lambda: released in log.read_text(), 5, "xscreensaver to let go")
