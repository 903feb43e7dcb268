"""``RemoteLogin`` / ``--while-remote``: hold while a remote login exists, on the test
desktop's logind (python-dbusmock's template, a real third-party implementation of
org.freedesktop.login1): remote sessions are added and removed as logind does it, the
session object first, then SessionNew or SessionRemoved."""

from __future__ import annotations

import json
import os
from typing import Any

from buses import MANAGER, Logins, wait_until
from cocainate import RemoteLogin, Session
from conftest import Desktop, run_cli, spawn_cli
from test_sleeping import assert_asleep


def held(desktop: Desktop) -> int:
    return len(desktop.held()["screensaver"])


def test_holds_while_a_remote_login_exists(bus_env: Desktop, logins: Logins) -> None:
    local = logins.add("alice", remote=False)
    session = Session(conditions=[RemoteLogin()], methods=["screensaver"]).start()
    try:
        assert session.state == "waiting" and session.conditions_now == "no remote login"
        ssh = logins.add("bob", remote=True, host="10.0.0.5")
        wait_until(lambda: session.wait(0.05) is None and held(bus_env) == 1, 5, "the hold")
        assert session.conditions_now == "a remote login (bob from 10.0.0.5)"
        logins.remove(local)  # a local session leaving changes nothing
        session.wait(1.2)
        assert held(bus_env) == 1
        logins.remove(ssh)
        wait_until(lambda: session.wait(0.05) is None and held(bus_env) == 0, 5, "the release")
        assert session.state == "waiting"
    finally:
        session.stop()


def test_a_remote_login_already_there_holds_at_start(bus_env: Desktop, logins: Logins) -> None:
    logins.add("carol", remote=True)
    with Session(conditions=[RemoteLogin()], methods=["screensaver"]) as session:
        assert session.state == "holding" and session.conditions_now == "a remote login (carol)"


def test_a_removal_said_by_someone_else_changes_nothing(bus_env: Desktop, logins: Logins) -> None:
    from jeepney import DBusAddress, new_signal
    from jeepney.io.blocking import open_dbus_connection

    ssh = logins.add("dave", remote=True)
    with Session(conditions=[RemoteLogin()], methods=["screensaver"]) as session:
        assert session.state == "holding"
        with open_dbus_connection(bus_env.system_bus.address) as liar:
            where = DBusAddress(MANAGER, interface="org.freedesktop.login1.Manager")
            liar.send(new_signal(where, "SessionRemoved", "so", ("c100", ssh)))
        session.wait(1.2)
        assert session.state == "holding" and held(bus_env) == 1


def test_the_cli_holds_while_remote_and_says_why(
    bus_env: Desktop, logins: Logins, children: list[Any]
) -> None:
    process = spawn_cli("--while-remote", "--json", env=bus_env.env)
    children.append(process)
    assert process.stdout is not None
    first = json.loads(process.stdout.readline())
    assert first["event"] == "waiting" and first["condition"] == "a remote login exists"
    logins.add("erin", remote=True, host="192.0.2.7")
    acquired = json.loads(process.stdout.readline())
    assert acquired["event"] == "acquired"
    assert acquired["condition"] == "a remote login (erin from 192.0.2.7)"
    assert_asleep(process)


def test_without_logind_it_says_so_in_one_line(fresh_bus: object) -> None:
    done = run_cli("--while-remote", env=dict(os.environ))
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done
    assert done.stderr.startswith("cocainate: cannot follow remote logins: ")
