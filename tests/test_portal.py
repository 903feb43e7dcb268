"""The portal mechanism (org.freedesktop.portal.Inhibit).

Against the real xdg-desktop-portal with its real -gtk backend, under Xvfb on private
buses: the backend passes the idle flag on to org.freedesktop.ScreenSaver, served here by
the stand-in (tests/services/inhibit_service.py), which records who holds what. (A real
screensaver cannot serve: xscreensaver refuses an Inhibit with no application name, which
is what the backend sends for an unsandboxed caller, and the backend reports success all
the same; light-locker needs a display manager.)

The answers the real portal gives only to a sandboxed program or with a failing backend
(a refusal, at once or later; no Response at all, as before 1.16) come from a stand-in
portal on a real bus (tests/services/portal.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from buses import Bus, StandIn, wait_until
from cocainate import NoMechanismError, Session
from cocainate.mechanisms import select
from conftest import run_cli
from test_real_daemons import Machine

PORTAL = "/usr/libexec/xdg-desktop-portal"
BACKEND = "/usr/libexec/xdg-desktop-portal-gtk"
STAND_IN = Path(__file__).parent / "services" / "portal.py"


@pytest.fixture
def desktop(tmp_path: Path, x_display: str) -> Iterator[tuple[Machine, StandIn]]:
    if not (os.path.exists(PORTAL) and os.path.exists(BACKEND)):
        pytest.skip("needs xdg-desktop-portal and xdg-desktop-portal-gtk (.ci/run installs them)")
    machine = Machine(tmp_path, x_display)
    machine.env["XDG_CURRENT_DESKTOP"] = "GNOME"  # the -gtk backend serves it
    try:
        screensaver = StandIn(machine.session, "screensaver")
        gtk = "org.freedesktop.impl.portal.desktop.gtk"
        machine.daemon([BACKEND, "-r"], gtk, tmp_path / "gtk.log")
        machine.daemon([PORTAL, "-r"], "org.freedesktop.portal.Desktop", tmp_path / "portal.log")
        yield machine, screensaver
    finally:
        machine.close()


def backend_holds(screensaver: StandIn) -> list[str]:
    return [reason for _cookie, _owner, reason, _flags in screensaver.inhibitors()]


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_the_real_portal_passes_the_hold_on_and_lets_go(
    desktop: tuple[Machine, StandIn], how: str
) -> None:
    machine, screensaver = desktop
    process = machine.cocainate("--method", "portal", "--reason", "portal test")
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "keeping the display awake (portal)" in line, line
    wait_until(lambda: backend_holds(screensaver) == ["portal test"], 5, "the backend's hold")
    (caller,) = {owner for _cookie, owner, _reason, _flags in screensaver.inhibitors()}
    backend = machine.session.call(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "GetNameOwner",
        "s",
        ("org.freedesktop.impl.portal.desktop.gtk",),
    )[0]
    assert caller == backend  # the portal's backend holds it for us
    process.send_signal(getattr(signal, how))
    process.communicate(timeout=10)
    wait_until(lambda: backend_holds(screensaver) == [], 5, "the backend to let go")


def test_the_real_portal_in_a_session(desktop: tuple[Machine, StandIn]) -> None:
    machine, screensaver = desktop
    env = machine.env
    saved = {k: os.environ.get(k) for k in ("DBUS_SESSION_BUS_ADDRESS", "FLATPAK_ID")}
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = env["DBUS_SESSION_BUS_ADDRESS"]
    os.environ["FLATPAK_ID"] = "org.example.Test"  # as inside Flatpak: the portal comes first
    try:
        assert select(None)[0].name == "portal"
        session = Session(methods=["portal"], reason="library").start()
        try:
            assert session.holding == ("portal",)
            wait_until(lambda: backend_holds(screensaver) == ["library"], 5, "the backend's hold")
        finally:
            session.stop()
        assert session.problems == []
        wait_until(lambda: backend_holds(screensaver) == [], 5, "the backend to let go")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_outside_a_sandbox_only_when_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FLATPAK_ID", "SNAP"):
        monkeypatch.delenv(name, raising=False)
    if os.path.exists("/.flatpak-info"):
        pytest.skip("this test runs in a Flatpak")
    assert "portal" not in [entry.name for entry in select(None)]
    assert [entry.name for entry in select(["portal"])] == ["portal"]
    monkeypatch.setenv("SNAP", "/snap/cocainate/1")
    assert select(None)[0].name == "portal"


@pytest.fixture
def stand_in(fresh_bus: Bus) -> Iterator[Any]:
    def start(*options: str) -> subprocess.Popen[str]:
        process = fresh_bus.spawn(
            [sys.executable, str(STAND_IN), *options], name=None, stdout=subprocess.PIPE
        )
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        return process

    yield start


def portal_holds(bus: Bus) -> list[tuple[str, str]]:
    rows = bus.call(
        "org.freedesktop.portal.Desktop", "/org/cocainate/Test", "org.cocainate.Test", "Inhibitors"
    )[0]
    return [(str(h), str(c)) for h, c in rows]


def test_a_refusal_is_a_failure_not_a_hold(fresh_bus: Bus, stand_in: Any) -> None:
    stand_in("--respond", "2")
    with pytest.raises(NoMechanismError) as caught:
        Session(methods=["portal"]).start()
    assert "portal: the portal refused to inhibit (response 2)" in str(caught.value)
    done = run_cli("--method", "portal", "-d", "1s", env=dict(os.environ))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert lines[-1].endswith("the portal refused to inhibit (response 2)"), lines
    assert "Traceback" not in done.stderr
    assert portal_holds(fresh_bus) == []


def test_a_later_refusal_is_a_loss(fresh_bus: Bus, stand_in: Any) -> None:
    stand_in()
    events: list[tuple[str, Any]] = []
    session = Session(methods=["portal"], on_event=lambda e: events.append((e.kind, e.error)))
    session.start()
    try:
        ((handle, _caller),) = portal_holds(fresh_bus)
        fresh_bus.call(
            "org.freedesktop.portal.Desktop",
            "/org/cocainate/Test",
            "org.cocainate.Test",
            "Refuse",
            "o",
            (handle,),
        )
        wait_until(lambda: ("lost" in [k for k, _ in events]) or session.wait(0.05), 5, "a loss")
        assert ("lost", "the portal stopped inhibiting (response 2)") in events
        assert session.holding == ()
    finally:
        session.stop()
    assert session.problems == []  # nothing to give back: the portal dropped it


def test_a_portal_that_says_nothing_holds_on_the_grant(fresh_bus: Bus, stand_in: Any) -> None:
    stand_in("--silent")
    session = Session(methods=["portal"]).start()
    try:
        assert session.holding == ("portal",)
        ((handle, _caller),) = portal_holds(fresh_bus)
        assert handle.startswith("/org/freedesktop/portal/desktop/request/")
        assert handle.rsplit("/", 1)[1].startswith("cocainate_")
    finally:
        session.stop()
    assert portal_holds(fresh_bus) == []  # given back by Close
    assert session.problems == []


def test_the_bus_starts_the_portal_on_demand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in a desktop session, where the portal is D-Bus activated on its first call."""
    services = tmp_path / "services"
    services.mkdir()
    (services / "portal.service").write_text(
        f"[D-BUS Service]\nName=org.freedesktop.portal.Desktop\nExec={sys.executable} {STAND_IN}\n"
    )
    bus = Bus(tmp_path / "bus", "session", services=services)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    try:
        assert not bus.has_owner("org.freedesktop.portal.Desktop")
        session = Session(methods=["portal"]).start()
        try:
            assert session.holding == ("portal",)
            assert len(portal_holds(bus)) == 1
        finally:
            session.stop()
        assert portal_holds(bus) == []
    finally:
        bus.close()
        subprocess.run(["pkill", "-f", str(STAND_IN)], check=False)
