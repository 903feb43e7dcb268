"""``MinBattery`` / ``--min-battery``: let go while on battery below a charge, hold again
on mains power or once charged above it, from UPower: python-dbusmock's template, on a
private system bus of this test's own (its display device and OnBattery, each changed
with PropertiesChanged as upowerd does); and the real upowerd, reading a battery and an
adapter from umockdev's /sys and hearing of each change by the kernel's uevent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from buses import Bus, StandIn, wait_until
from cocainate import MinBattery, Session, UsageError
from conftest import run_cli, spawn_cli
from test_conditions import UPower
from test_sleeping import assert_asleep

DISPLAY = "/org/freedesktop/UPower/devices/DisplayDevice"


class Machine:
    """A session bus with a stand-in screensaver, a system bus with UPower on it."""

    def __init__(self, root: Path, on_battery: bool, percent: float) -> None:
        self.session = Bus(root / "session", "session")
        self.system = Bus(root / "system", "system")
        self.screensaver = StandIn(self.session, "screensaver")
        self.upower = UPower(self.system, on_battery=on_battery)
        wait_until(lambda: self.system.has_owner(UPower.name), 10, "UPower")
        self.upower_call(
            "SetupDisplayDevice",
            "uuddddxxbsu",
            (2, 2 if on_battery else 1, percent, 0.0, 0.0, 0.0, 0, 0, True, "", 1),
        )
        self.env = {
            "PATH": "/usr/bin:/bin",
            "DBUS_SESSION_BUS_ADDRESS": self.session.address,
            "DBUS_SYSTEM_BUS_ADDRESS": self.system.address,
        }

    def upower_call(self, method: str, signature: str, body: tuple[Any, ...]) -> None:
        self.system.call(
            UPower.name,
            "/org/freedesktop/UPower",
            "org.freedesktop.DBus.Mock",
            method,
            signature,
            body,
        )

    def charge(self, percent: float) -> None:
        self.upower_call("SetDeviceProperties", "oa{sv}", (DISPLAY, {"Percentage": ("d", percent)}))

    def held(self) -> int:
        return len(self.screensaver.inhibitors())

    def close(self) -> None:
        self.upower.stop()
        self.screensaver.stop()
        self.session.close()
        self.system.close()


def makers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, build: Any) -> Iterator[Any]:
    """A fixture's ``make(on_battery, percent)``: ``build(root, on_battery, percent)``, its
    buses made this process's own; each one closed at the end."""
    made: list[Any] = []

    def make(on_battery: bool, percent: float) -> Any:
        made.append(build(tmp_path / str(len(made)), on_battery, percent))
        for key, value in made[-1].env.items():
            monkeypatch.setenv(key, value)
        return made[-1]

    yield make
    for m in made:
        m.close()


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from makers(tmp_path, monkeypatch, Machine)


def test_lets_go_below_the_floor_and_holds_again(machine: Any) -> None:
    m = machine(on_battery=True, percent=50.0)
    session = Session(gates=[MinBattery(20)], methods=["screensaver"]).start()
    try:
        assert session.state == "holding" and m.held() == 1
        m.charge(19.0)
        wait_until(lambda: session.wait(0.05) is None and m.held() == 0, 5, "the release")
        assert session.conditions_now == "on battery at 19 %, below 20 %"
        m.upower.set_on_battery(False)  # plugged in
        wait_until(lambda: session.wait(0.05) is None and m.held() == 1, 5, "the hold again")
        assert session.conditions_now == "on mains power (battery 19 %)"
        m.upower.set_on_battery(True)
        wait_until(lambda: session.wait(0.05) is None and m.held() == 0, 5, "unplugged: let go")
        m.charge(21.0)
        wait_until(lambda: session.wait(0.05) is None and m.held() == 1, 5, "charged: held")
    finally:
        session.stop()


def test_the_cli_waits_when_already_low_and_sleeps(machine: Any, children: list[Any]) -> None:
    m = machine(on_battery=True, percent=8.0)
    process = spawn_cli("--min-battery", "10%", "--json", env=m.env)
    children.append(process)
    assert process.stdout is not None
    first = json.loads(process.stdout.readline())
    assert first["event"] == "waiting", first
    assert m.held() == 0
    assert_asleep(process)
    m.upower.set_on_battery(False)
    assert json.loads(process.stdout.readline())["event"] == "acquired"


@pytest.mark.parametrize("bad", ["0", "101", "twenty", "", "-5%", True])
def test_bad_floors_name_the_problem(bad: Any) -> None:
    with pytest.raises(UsageError, match="invalid battery floor"):
        MinBattery(bad)


def test_the_cli_says_a_bad_floor_in_one_line(machine: Any) -> None:
    m = machine(on_battery=False, percent=90.0)
    done = run_cli("--min-battery", "150%", env=m.env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "battery floor" in done.stderr
    assert m.held() == 0


def test_without_upower_it_says_so(tmp_path: Path) -> None:
    session = Bus(tmp_path / "session", "session")
    system = Bus(tmp_path / "system", "system")
    try:
        env = {
            "PATH": "/usr/bin:/bin",
            "DBUS_SESSION_BUS_ADDRESS": session.address,
            "DBUS_SYSTEM_BUS_ADDRESS": system.address,
        }
        done = run_cli("--min-battery", "20", env=env)
        assert done.returncode == 1 and done.stderr.count("\n") == 1, done
        assert done.stderr.startswith("cocainate: cannot tell the battery's charge: ")
    finally:
        session.close()
        system.close()


UPOWERD = Path("/usr/libexec/upowerd")
FAKE_POWER = Path(__file__).parent / "services" / "fake_power.py"


def umockdev_python() -> str | None:
    """An interpreter with umockdev's GObject bindings, or None."""
    import subprocess

    from buses import dbusmock_python

    probe = "import gi; gi.require_version('UMockdev', '1.0'); from gi.repository import UMockdev"
    try:
        python = dbusmock_python()
    except RuntimeError:
        return None
    found = subprocess.run([python, "-c", probe], capture_output=True).returncode == 0
    return python if found else None


class Laptop:
    """The real upowerd on a umockdev testbed (an AC adapter and a battery), on a private
    system bus; a session bus with a stand-in screensaver."""

    def __init__(self, root: Path, on_battery: bool, percent: float, python: str) -> None:
        import subprocess

        root.mkdir(parents=True)
        self.session = Bus(root / "session", "session")
        self.system = Bus(root / "system", "system")
        self.screensaver = StandIn(self.session, "screensaver")
        argv = ["umockdev-wrapper", python, str(FAKE_POWER), str(root)]
        argv += ["battery" if on_battery else "ac", str(percent)]
        self.power = self.system.spawn(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        assert self.power.stdout is not None
        assert self.power.stdout.readline().strip() == "ready"
        self.env = {
            "PATH": "/usr/bin:/bin",
            "DBUS_SESSION_BUS_ADDRESS": self.session.address,
            "DBUS_SYSTEM_BUS_ADDRESS": self.system.address,
        }

    def do(self, command: str) -> None:
        assert self.power.stdin is not None and self.power.stdout is not None
        self.power.stdin.write(command + "\n")
        self.power.stdin.flush()
        assert self.power.stdout.readline().strip() == "ok", command

    def held(self) -> int:
        return len(self.screensaver.inhibitors())

    def close(self) -> None:
        from buses import stop

        stop(self.power)
        self.screensaver.stop()
        self.session.close()
        self.system.close()


@pytest.fixture
def laptop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    python = umockdev_python()
    if python is None or not UPOWERD.exists():
        pytest.skip("needs upowerd and umockdev (Debian: upower umockdev gir1.2-umockdev-1.0)")

    def build(root: Path, on_battery: bool, percent: float) -> Laptop:
        return Laptop(root, on_battery, percent, python)

    yield from makers(tmp_path, monkeypatch, build)


def test_the_real_upowerd_drives_the_floor_and_the_mains(laptop: Any) -> None:
    """upowerd reads a battery and an adapter from /sys (umockdev's), and hears of each
    change by the kernel's uevent; the session follows what it then says on the bus."""
    m = laptop(on_battery=True, percent=80)
    events: list[str] = []
    session = Session(
        methods=["screensaver"], gates=[MinBattery(20)], on_event=lambda e: events.append(e.kind)
    )
    session.start()
    try:
        import threading

        waiter = threading.Thread(target=session.wait, daemon=True)
        waiter.start()
        assert session.state == "holding" and m.held() == 1
        m.do("charge 10")
        wait_until(lambda: m.held() == 0, 10, "the release below the floor")
        m.do("ac 1")
        wait_until(lambda: m.held() == 1, 10, "the hold on mains power")
        m.do("ac 0")
        wait_until(lambda: m.held() == 0, 10, "the release on battery")
        m.do("charge 50")
        wait_until(lambda: m.held() == 1, 10, "the hold above the floor")
    finally:
        session.stop()
        waiter.join(5)
    assert events[:2] == ["acquired", "released"] and m.held() == 0


def test_the_real_upowerd_drives_only_on_ac(laptop: Any, children: list[Any]) -> None:
    m = laptop(on_battery=False, percent=90)
    argv = ["--only-on-ac", "--linger", "0", "--json", "--method", "screensaver"]
    cli = spawn_cli(*argv, env=m.env)
    children.append(cli)
    assert cli.stdout is not None
    assert json.loads(cli.stdout.readline())["event"] == "acquired"
    m.do("ac 0")
    assert json.loads(cli.stdout.readline())["event"] == "released"
    m.do("ac 1")
    assert json.loads(cli.stdout.readline())["event"] == "acquired"
