"""``NotLocked`` / ``--not-when-locked``: let go while the login session is locked, hold
again on unlock, from logind's LockedHint (python-dbusmock's logind template: its session
object's SetLockedHint sets the property and says PropertiesChanged, as logind does)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from buses import LOGIN, Logins, wait_until
from cocainate import ConditionError, NotLocked, Session
from conftest import Desktop, run_cli, spawn_cli
from test_sleeping import assert_asleep


def ours(logins: Logins, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A login session made ours ($XDG_SESSION_ID), and how to lock and unlock it."""
    path = logins.add("frank", remote=False)
    number = path.rsplit("/", 1)[1]
    monkeypatch.setenv("XDG_SESSION_ID", number)

    def locked(yes: bool) -> None:
        logins.bus.call(LOGIN, path, "org.freedesktop.login1.Session", "SetLockedHint", "b", (yes,))

    return number, locked


def held(desktop: Desktop) -> int:
    return len(desktop.held()["screensaver"])


def test_lets_go_while_locked_and_holds_on_unlock(
    bus_env: Desktop, logins: Logins, monkeypatch: pytest.MonkeyPatch
) -> None:
    _number, locked = ours(logins, monkeypatch)
    session = Session(gates=[NotLocked()], methods=["screensaver"], duration=60).start()
    try:
        assert session.state == "holding"
        locked(True)
        wait_until(lambda: session.wait(0.05) is None and held(bus_env) == 0, 5, "the release")
        assert session.conditions_now == "the session is locked"
        locked(False)
        wait_until(lambda: session.wait(0.05) is None and held(bus_env) == 1, 5, "the hold")
    finally:
        session.stop()


def test_a_session_locked_at_start_waits(
    bus_env: Desktop, logins: Logins, monkeypatch: pytest.MonkeyPatch
) -> None:
    _number, locked = ours(logins, monkeypatch)
    locked(True)
    with Session(gates=[NotLocked()], methods=["screensaver"]) as session:
        assert session.state == "waiting" and held(bus_env) == 0
        assert session.conditions_now == "the session is locked"


def test_the_cli_follows_the_lock_and_sleeps(
    bus_env: Desktop, logins: Logins, monkeypatch: pytest.MonkeyPatch, children: list[Any]
) -> None:
    number, locked = ours(logins, monkeypatch)
    env = dict(bus_env.env, XDG_SESSION_ID=number)
    process = spawn_cli("--not-when-locked", "--json", "--method", "screensaver", env=env)
    children.append(process)
    assert process.stdout is not None
    assert json.loads(process.stdout.readline())["event"] == "acquired"
    locked(True)
    released = json.loads(process.stdout.readline())
    assert released["event"] == "released" and released["condition"] == "the session is locked"
    assert_asleep(process)


def test_no_such_session_is_one_line(bus_env: Desktop) -> None:
    env = dict(bus_env.env, XDG_SESSION_ID="nonexistent")
    done = run_cli("--not-when-locked", env=env)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done
    assert done.stderr.startswith("cocainate: cannot tell whether the session is locked: ")
    assert bus_env.nothing_held()


def test_without_logind_it_cannot_start(fresh_bus: object) -> None:
    with pytest.raises(ConditionError, match="cannot tell whether the session is locked"):
        Session(gates=[NotLocked()], methods=["screensaver"]).start()


def test_the_screensaver_saying_it_locks_is_followed(
    bus_env: Desktop, logins: Logins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A desktop whose locker says so on the session bus (KDE: org.freedesktop.ScreenSaver's
    ActiveChanged), while logind's LockedHint stays false: the lock is followed all the same,
    and either one locked is locked."""
    _number, locked = ours(logins, monkeypatch)
    session = Session(gates=[NotLocked()], methods=["screensaver"]).start()
    try:
        assert session.state == "holding"
        bus_env.screensaver.set_active(True)
        wait_until(lambda: session.wait(0.05) is None and held(bus_env) == 0, 5, "the release")
        assert session.conditions_now == "the screen is locked (org.freedesktop.ScreenSaver)"
        locked(True)  # both
        bus_env.screensaver.set_active(False)
        assert session.wait(0.3) is None and held(bus_env) == 0  # logind still says locked
        locked(False)
        wait_until(lambda: session.wait(0.05) is None and held(bus_env) == 1, 5, "the hold")
    finally:
        session.stop()


def test_a_screensaver_active_at_start_and_an_impostor(
    bus_env: Desktop, logins: Logins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked at start with GetActive; an ActiveChanged from a connection that does not own
    the screensaver's name counts for nothing."""
    from jeepney import DBusAddress, HeaderFields, new_signal
    from jeepney.io.blocking import open_dbus_connection

    ours(logins, monkeypatch)
    bus_env.screensaver.set_active(True)
    session = Session(gates=[NotLocked()], methods=["screensaver"]).start()
    impostor = open_dbus_connection(bus_env.session_bus.address)
    try:
        assert session.state == "waiting" and held(bus_env) == 0
        said = new_signal(
            DBusAddress("/org/freedesktop/ScreenSaver", interface="org.freedesktop.ScreenSaver"),
            "ActiveChanged",
        )
        said.header.fields[HeaderFields.signature] = "b"
        said.body = (False,)
        impostor.send(said)
        assert session.wait(0.5) is None and session.state == "waiting"
        bus_env.screensaver.set_active(False)
        wait_until(lambda: session.wait(0.05) is None and held(bus_env) == 1, 5, "the hold")
    finally:
        impostor.close()
        session.stop()


def test_logind_asking_the_locker_lets_go_until_an_unlock(
    bus_env: Desktop, logins: Logins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``loginctl lock-session``: logind says Lock on the session's object (a locker then
    sets LockedHint); a desktop whose locker says nothing more is still followed: Lock
    lets go, Unlock holds again, and so does an unlock said another way."""
    number, locked = ours(logins, monkeypatch)
    path = f"/org/freedesktop/login1/session/{number}"

    def ask(member: str) -> None:  # what loginctl lock-session / unlock-session do
        logins.bus.call(LOGIN, path, "org.freedesktop.login1.Session", member)

    session = Session(gates=[NotLocked()], methods=["screensaver"]).start()
    try:
        assert session.state == "holding"
        ask("Lock")
        wait_until(lambda: session.wait(0.05) is None and held(bus_env) == 0, 5, "the release")
        assert session.conditions_now == "the session is being locked (logind's Lock)"
        ask("Unlock")
        wait_until(lambda: session.wait(0.05) is None and held(bus_env) == 1, 5, "the hold")
        ask("Lock")
        locked(True)
        locked(False)  # the locker unlocked: the Lock asked for is over
        assert session.wait(1.2) is None  # past the spacing of changes
        wait_until(lambda: session.wait(0.05) is None and held(bus_env) == 1, 5, "the hold")
    finally:
        session.stop()
