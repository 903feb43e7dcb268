"""The contract every D-Bus mechanism keeps, run against services on real private buses.

Each mechanism is checked against the service that would serve it on a user's machine:
the stand-in services (tests/services/inhibit_service.py) for the desktop interfaces,
python-dbusmock's logind template for systemd-logind.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any, Callable

import pytest

from buses import Bus, StandIn, wait_until
from cocainate import MechanismError, Mode
from cocainate.bindings.buses import Resources
from cocainate.mechanisms import Mechanism, entries
from conftest import Desktop

DBUS = ["screensaver", "gnome-session", "power-management", "logind"]


def observer(desktop: Desktop, name: str) -> Callable[[], list[Any]]:
    observers: dict[str, Callable[[], list[Any]]] = {
        "screensaver": desktop.screensaver.inhibitors,
        "gnome-session": desktop.gnome.inhibitors,
        "power-management": desktop.power.inhibitors,
        "logind": desktop.logind.inhibitors,
    }
    return observers[name]


def make(name: str, resources: Resources) -> Mechanism:
    (entry,) = [e for e in entries("linux") if e.name == name]
    return entry.load()(resources)


@pytest.mark.parametrize("name", DBUS)
class TestContract:
    def test_probe_says_usable(self, bus_env: Desktop, name: str) -> None:
        resources = Resources()
        try:
            assert make(name, resources).probe() is None
        finally:
            resources.close()

    def test_acquire_then_release(self, bus_env: Desktop, name: str) -> None:
        held = observer(bus_env, name)
        resources = Resources()
        mechanism = make(name, resources)
        try:
            mechanism.acquire(Mode.DISPLAY, "contract test")
            (row,) = held()
            assert "contract test" in row
            mechanism.release()
            wait_until(lambda: not held(), 2, "the release")
            mechanism.release()  # idempotent
            assert mechanism.problems == []
        finally:
            resources.close()

    def test_closing_the_connection_drops_the_inhibit(self, bus_env: Desktop, name: str) -> None:
        held = observer(bus_env, name)
        resources = Resources()
        mechanism = make(name, resources)
        mechanism.acquire(Mode.SYSTEM if name != "screensaver" else Mode.DISPLAY, "dropped")
        assert held()
        if name == "logind":
            mechanism.release()  # the lock is the fd, not the connection
        resources.close()
        wait_until(lambda: not held(), 2, "the service to drop the inhibit")

    def test_release_after_resources_closed_never_raises(self, bus_env: Desktop, name: str) -> None:
        resources = Resources()
        mechanism = make(name, resources)
        mechanism.acquire(Mode.DISPLAY, "closed under it")
        resources.close()
        mechanism.release()
        wait_until(lambda: not observer(bus_env, name)(), 2, "the drop")

    def test_unusable_without_its_service(self, fresh_bus: Bus, name: str) -> None:
        resources = Resources()
        try:
            why = make(name, resources).probe()
            assert why is not None and ("not running" in why or "system bus" in why)
            with pytest.raises(MechanismError):
                make(name, resources).acquire(Mode.DISPLAY, "nobody listens")
        finally:
            resources.close()


def test_gnome_flags_follow_the_mode(bus_env: Desktop) -> None:
    """Idle alone in display mode (8); suspend alone in system mode (4)."""
    for mode, flags in ((Mode.DISPLAY, 8), (Mode.SYSTEM, 4)):
        resources = Resources()
        mechanism = make("gnome-session", resources)
        mechanism.acquire(mode, "flags")
        assert [row[3] for row in bus_env.gnome.inhibitors()] == [flags]
        mechanism.release()
        resources.close()


def test_logind_what_follows_the_mode(bus_env: Desktop) -> None:
    for mode, what in ((Mode.DISPLAY, "idle"), (Mode.SYSTEM, "sleep")):
        resources = Resources()
        mechanism = make("logind", resources)
        mechanism.acquire(mode, "what")
        assert bus_env.logind.inhibitors() == [(what, "cocainate", "what", "block")]
        mechanism.release()
        resources.close()
        wait_until(lambda: not bus_env.logind.inhibitors(), 2, "logind to notice the closed fd")


@pytest.mark.parametrize(
    "paths",
    ["/ScreenSaver", "/org/freedesktop/ScreenSaver", "/org/freedesktop/ScreenSaver,/ScreenSaver"],
)
def test_screensaver_at_any_of_its_paths(fresh_bus: Bus, paths: str) -> None:
    service = StandIn(fresh_bus, "screensaver", "--paths", paths)
    resources = Resources()
    mechanism = make("screensaver", resources)
    mechanism.acquire(Mode.DISPLAY, "paths")
    assert len(service.inhibitors()) == 1
    mechanism.release()
    assert service.inhibitors() == []
    assert [c[0] for c in service.calls()] == ["Inhibit", "UnInhibit"]
    resources.close()


def test_cookie_zero_is_a_cookie(fresh_bus: Bus) -> None:
    service = StandIn(fresh_bus, "screensaver", "--first-cookie", "0")
    resources = Resources()
    mechanism = make("screensaver", resources)
    mechanism.acquire(Mode.DISPLAY, "zero")
    assert [row[0] for row in service.inhibitors()] == [0]
    mechanism.release()
    assert service.calls("UnInhibit")[0][3] == 0
    assert service.inhibitors() == []
    resources.close()


def test_a_refusal_is_reported_with_the_services_words(fresh_bus: Bus) -> None:
    StandIn(fresh_bus, "power", "--fail", "org.freedesktop.DBus.Error.AccessDenied")
    resources = Resources()
    with pytest.raises(MechanismError, match="AccessDenied: refused by the test service"):
        make("power-management", resources).acquire(Mode.SYSTEM, "no")
    resources.close()


def test_a_service_that_never_answers_costs_a_bounded_wait(fresh_bus: Bus) -> None:
    StandIn(fresh_bus, "gnome", "--hang")
    resources = Resources()
    with pytest.raises(MechanismError, match="did not answer Inhibit within 2 s"):
        make("gnome-session", resources).acquire(Mode.DISPLAY, "hang")
    resources.close()


def test_a_mechanism_that_cannot_load_is_a_reason() -> None:
    from cocainate.mechanisms import Entry

    with pytest.raises(MechanismError, match="cannot load: No module named"):
        Entry("ghost", "no_such_module:Ghost").load()


def test_no_session_bus_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    resources = Resources()
    assert (
        make("screensaver", resources).probe()
        == "no session bus: DBUS_SESSION_BUS_ADDRESS is not set"
    )
    resources.close()


def test_importing_cocainate_loads_no_dbus_or_platform_code() -> None:
    code = (
        "import sys, cocainate\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('jeepney', 'ctypes', 'asyncio')"
        " or m.startswith('cocainate.mechanisms.') or m == 'cocainate._dbus']\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
