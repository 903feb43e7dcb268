"""--lid: logind's handle-lid-switch lock, held beside the system mode's sleep lock and let
go with it, on python-dbusmock's logind (which drops a lock when its fd closes, as logind
does); where another program holds the lid already, or logind ignores the lid, the hold
says so in one line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from buses import LOGIN, MANAGER, MOCK
from cocainate import Session
from cocainate.errors import UsageError
from conftest import Desktop, run_cli

LID = "handle-lid-switch"


def lid_locks(desktop: Desktop) -> list[tuple[str, str, str, str]]:
    return [row for row in desktop.logind.inhibitors() if LID in row[0]]


def test_the_lid_is_held_with_the_system_and_let_go_with_it(bus_env: Desktop) -> None:
    session = Session(mode="system", lid=True, methods=["logind"], reason="backup").start()
    try:
        assert [(a.name, a.held, a.caveat) for a in session.attempts] == [
            ("logind", True, None),
            ("logind-lid", True, None),
        ]
        held = bus_env.logind.inhibitors()
        assert ("sleep", "cocainate", "backup", "block") in held
        assert (LID, "cocainate", "backup", "block") in held
    finally:
        session.stop()
    assert lid_locks(bus_env) == [] and bus_env.logind.inhibitors() == []


def test_another_holder_of_the_lid_is_said(bus_env: Desktop) -> None:
    """A desktop that handles the lid itself holds the lid's lock already (as GNOME's
    settings daemon does): closing the lid is up to it, and the hold says so."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    desktop = open_dbus_connection(bus_env.system_bus.address, enable_fds=True)
    try:
        manager = DBusAddress(MANAGER, LOGIN, "org.freedesktop.login1.Manager")
        call = new_method_call(manager, "Inhibit", "ssss", (LID, "gsd-power", "lid", "block"))
        (fd,) = desktop.send_and_get_reply(call, timeout=5).body
        session = Session(mode="system", lid=True, methods=["logind"]).start()
        try:
            (lid,) = [a for a in session.attempts if a.name == "logind-lid"]
            assert lid.held and lid.caveat is not None
            assert lid.caveat.startswith("gsd-power (lid) holds the lid too"), lid.caveat
        finally:
            session.stop()
        fd.close()
    finally:
        desktop.close()


def test_a_logind_that_ignores_the_lid_is_said(bus_env: Desktop) -> None:
    bus_env.system_bus.call(
        LOGIN,
        MANAGER,
        MOCK,
        "AddProperty",
        "ssv",
        ("org.freedesktop.login1.Manager", "HandleLidSwitch", ("s", "ignore")),
    )
    done = run_cli("--mode", "system", "--lid", "--method", "logind", "-d", "1s", env=bus_env.env)
    assert done.returncode == 0, done.stderr
    assert "logind ignores the lid here (HandleLidSwitch=ignore): nothing to keep" in done.stderr


def test_the_command_line_holds_the_lid_and_says_so(bus_env: Desktop) -> None:
    argv = ["--mode", "system", "--lid", "--method", "logind", "-d", "300ms", "--json"]
    done = run_cli(*argv, env=bus_env.env)
    assert done.returncode == 0, done.stderr
    events: list[dict[str, Any]] = [json.loads(line) for line in done.stdout.splitlines()]
    assert events[0]["event"] == "acquired"
    assert events[0]["mechanisms"] == ["logind", "logind-lid"]
    assert bus_env.logind.inhibitors() == []


@pytest.mark.parametrize("mode", ["display", None])
def test_the_lid_needs_the_system_mode(bus_env: Desktop, mode: str | None) -> None:
    with pytest.raises(UsageError, match="needs mode system"):
        Session(mode=mode or "display", lid=True)
    argv = ["--lid", "-d", "1s"] + (["--mode", mode] if mode else [])
    done = run_cli(*argv, env=bus_env.env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done
    assert "needs mode system" in done.stderr and "Traceback" not in done.stderr
    assert bus_env.nothing_held()


def test_status_lists_the_lid_under_its_own_name(bus_env: Desktop) -> None:
    session = Session(mode="system", lid=True, methods=["logind"], reason="lidded").start()
    try:
        out = run_cli("status", env=bus_env.env).stdout
    finally:
        session.stop()
    rows = {line.split()[0]: line for line in out.splitlines() if line and line[0] != " "}
    assert "1 held" in rows["logind"] and "1 held" in rows["logind-lid"], out
    assert f"{LID} (block) by cocainate" in out and "sleep (block) by cocainate" in out
