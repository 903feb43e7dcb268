"""Control of running sessions over the session bus: ``Session.publish()`` serves a
session's state and methods, :func:`cocainate.find_sessions` finds them from another
process, and the commands (``toggle``, ``on``, ``off``, ``pause``, ``resume``, ``extend``,
``stop``, ``status --json`` and ``--follow``) are their clients. On the test desktop's
private session bus with its stand-in services, which record every Inhibit and UnInhibit;
the sessions under control are real ``cocainate`` processes and library sessions."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jeepney import HeaderFields

import cocainate
from buses import wait_until
from cocainate import Session, SessionError
from conftest import Desktop, named_program, run_cli, spawn_cli


def held(desktop: Desktop) -> int:
    return len(desktop.held()["screensaver"])


def exited(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie, where no init reaps it, has)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


@contextlib.contextmanager
def published(session: Session, kind: str = "program") -> Iterator[tuple[str, threading.Thread]]:
    """``session`` (started) on the bus and waited on in a thread of its own: its name and
    that thread; stopped, and the thread joined, on the way out."""
    waiter = threading.Thread(target=session.wait, daemon=True)  # a failure must not stall
    try:
        name = session.publish(kind)
        waiter.start()
        yield name, waiter
    finally:
        session.stop()
        if waiter.ident is not None:
            waiter.join(5)
            assert not waiter.is_alive(), "the wait went on after the stop"


def test_a_published_session_is_found_and_steered(bus_env: Desktop) -> None:
    session = Session(methods=["screensaver"], duration=600, reason="the build").start()
    with published(session, "program") as (name, waiter):
        (found,) = cocainate.find_sessions()
        assert found.name == name and found.kind == "program" and found.state == "holding"
        assert found.holding == ("screensaver",) and found.reason == "the build"
        assert found.until is not None and 595 < found.until - time.time() <= 600
        assert found.toggle() is True
        wait_until(lambda: held(bus_env) == 0, 3, "the pause to let go")
        assert cocainate.find_sessions()[0].paused
        found.resume()
        wait_until(lambda: held(bus_env) == 1, 3, "the resume to hold")
        found.extend(60)
        assert session.ends_at is not None and 655 < session.ends_at - time.time() <= 660
        assert abs(cocainate.find_sessions()[0].until - session.ends_at) < 0.01  # type: ignore[operator]
        found.end_at(time.time() + 0.3)
        waiter.join(5)  # it ends at the new end
        assert not waiter.is_alive() and session.ended is not None
        assert session.ended.reason == "until"
    assert cocainate.find_sessions() == []  # its name left the bus with the release


def test_stop_waits_for_the_release(bus_env: Desktop) -> None:
    session = Session(methods=["screensaver"]).start()
    with published(session) as (_name, waiter):
        (found,) = cocainate.find_sessions()
        assert found.until is None
        with pytest.raises(SessionError, match="no end to extend"):
            found.extend(60)
        assert found.stop() is True
        assert held(bus_env) == 0  # let go before stop() returned
        waiter.join(5)
        assert session.ended is not None and session.ended.reason == "stopped"


def test_commands_over_two_holds_and_a_watch(
    bus_env: Desktop, tmp_path: Path, children: list[subprocess.Popen[Any]]
) -> None:
    env = dict(bus_env.env, XDG_CONFIG_HOME=str(tmp_path))
    name, program = named_program(tmp_path, "ccctl", 'method = ["screensaver"]\n')
    children.append(program)
    for args in (["-d", "1h"], ["--until", "23:59:59"], ["watch"]):
        children.append(
            spawn_cli(*args, "--method", "screensaver", env=env)
            if args != ["watch"]
            else spawn_cli("watch", env=env)
        )
    try:
        wait_until(lambda: len(cocainate.find_sessions()) == 3, 10, "three sessions on the bus")
    except AssertionError:
        for c in children[1:]:
            c.terminate()
            print(c.communicate())
        raise
    wait_until(lambda: held(bus_env) == 3, 5, "three holds")
    done = run_cli("status", "--json", env=env)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["class"] == "holding"
    assert sorted(s["kind"] for s in found["sessions"]) == ["hold", "hold", "watch"]
    watch = next(s for s in found["sessions"] if s["kind"] == "watch")
    assert watch["conditions"][0]["met"] and name in watch["conditions"][0]["condition"]

    done = run_cli("toggle", env=env)  # something holds: off, which pauses each
    assert done.returncode == 0 and done.stdout.count("paused pid") == 3, done
    wait_until(lambda: held(bus_env) == 0, 5, "every hold let go")
    assert all(s.paused for s in cocainate.find_sessions())
    done = run_cli("toggle", env=env)  # nothing holds: on, which resumes each
    assert done.returncode == 0 and done.stdout.count("resumed pid") == 3, done
    wait_until(lambda: held(bus_env) == 3, 5, "every hold back")

    before = {s.pid: s.until for s in cocainate.find_sessions()}
    done = run_cli("extend", "30m", env=env)
    assert done.returncode == 0 and done.stdout.count("now ends at") == 2, done
    for session in cocainate.find_sessions():
        if session.kind == "hold":
            assert abs(session.until - before[session.pid] - 1800) < 0.5  # type: ignore[operator]
        else:
            assert session.until is None  # the watch keeps its own (none)

    done = run_cli("stop", env=env)
    assert done.returncode == 2 and "3 sessions are running" in done.stderr, done
    hold_pid = children[1].pid
    done = run_cli("stop", str(hold_pid), env=env)
    assert done.returncode == 0 and f"stopped pid {hold_pid}" in done.stdout, done
    assert children[1].wait(5) == 0  # ended and let go before 'stop' returned
    assert held(bus_env) == 2
    done = run_cli("stop", "--all", env=env)
    assert done.returncode == 0, done
    assert held(bus_env) == 0
    for child in children[1:]:
        assert child.wait(5) == 0
    for command in (["pause"], ["resume"], ["extend", "1m"], ["stop"]):
        done = run_cli(*command, env=env)
        assert done.returncode == 5, done
        assert done.stderr == "cocainate: no cocainate session is running\n"
    done = run_cli("off", env=env)
    assert done.returncode == 0 and done.stdout == "cocainate: nothing was holding\n"


def test_on_holds_in_the_background_and_off_stops_it(bus_env: Desktop) -> None:
    env = bus_env.env
    done = run_cli("on", "-d", "1h", "--method", "screensaver", env=env)
    assert done.returncode == 0, done.stderr
    said, pid = done.stdout.splitlines()
    assert said.startswith("cocainate: keeping the display awake (screensaver)")
    (found,) = cocainate.find_sessions()  # reachable before 'on' returned
    assert found.pid == int(pid) and found.kind == "detached" and held(bus_env) == 1
    assert found.until is not None and 3590 < found.until - time.time() <= 3600
    done = run_cli("on", "--until", "23:59", env=env)  # a new end for it
    assert done.returncode == 0 and "now ends at 23:59:00" in done.stdout, done
    assert len(cocainate.find_sessions()) == 1
    done = run_cli("off", env=env)
    assert done.returncode == 0 and done.stdout == f"cocainate: stopped pid {pid} (detached)\n"
    assert held(bus_env) == 0 and cocainate.find_sessions() == []
    wait_until(lambda: exited(int(pid)), 5, "the background hold to exit")


def test_detach_reports_the_holds_own_failure(bus_env: Desktop) -> None:
    done = run_cli("--detach", "--method", "no-such-method", env=bus_env.env)
    assert done.returncode == 2 and done.stdout == "", done
    done = run_cli("--detach", "-q", "--method", "x11", env=bus_env.env)  # no DISPLAY here
    assert done.returncode == 3 and "x11" in done.stderr and done.stdout == "", done
    assert cocainate.find_sessions() == []
    done = run_cli("--detach", "-q", "--", "sleep", "1", env=bus_env.env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--detach" in done.stderr


def test_follow_prints_each_change_and_nothing_else(bus_env: Desktop) -> None:
    env = bus_env.env
    follower = spawn_cli("status", "--follow", "--json", env=env)
    assert follower.stdout is not None
    try:
        first = json.loads(follower.stdout.readline())
        assert first["class"] == "off" and first["sessions"] == []
        assert first["tooltip"] == "no cocainate session is running"
        done = run_cli("on", "-q", "--method", "screensaver", env=env)
        assert done.returncode == 0, done.stderr
        lines = [json.loads(follower.stdout.readline())]
        assert lines[0]["class"] == "holding" and lines[0]["text"] == "holding"
        (session,) = lines[0]["sessions"]
        assert session["kind"] == "detached" and session["holding"] == ["screensaver"]
        assert run_cli("toggle", "-q", env=env).returncode == 0  # off: stops a detached hold
        last = json.loads(follower.stdout.readline())
        assert last["class"] == "off"
    finally:
        follower.terminate()
        rest, _ = follower.communicate(timeout=5)
    assert rest == ""  # nothing between the changes, and no repeats


def test_wrong_calls_get_errors_and_change_nothing(bus_env: Desktop) -> None:
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    from cocainate.bindings.control import INTERFACE, PATH

    session = Session(methods=["screensaver"], duration=600).start()
    with published(session) as (name, _waiter):
        with open_dbus_connection(bus_env.session_bus.address) as client:
            here = DBusAddress(PATH, name, INTERFACE)

            def error_of(member: str, signature: str | None = None, body: Any = ()) -> str:
                reply = client.send_and_get_reply(
                    new_method_call(here, member, signature, body), timeout=2
                )
                return str(reply.header.fields.get(HeaderFields.error_name))

            assert error_of("Extend", "s", ("1h",)).endswith("InvalidArgs")
            assert error_of("Extend", "d", (-5.0,)).endswith("Error.Refused")
            assert error_of("Extend", "d", (float("nan"),)).endswith("Error.Refused")
            assert error_of("EndAt", "d", (float("inf"),)).endswith("Error.Refused")
            assert error_of("Explode").endswith("UnknownMethod")
            other = DBusAddress("/elsewhere", name, INTERFACE)
            reply = client.send_and_get_reply(new_method_call(other, "Stop"), timeout=2)
            assert str(reply.header.fields.get(HeaderFields.error_name)).endswith("UnknownObject")
            props = DBusAddress(PATH, name, "org.freedesktop.DBus.Properties")
            set_call = new_method_call(props, "Set", "ssv", (INTERFACE, "Paused", ("b", True)))
            reply = client.send_and_get_reply(set_call, timeout=2)
            assert str(reply.header.fields.get(HeaderFields.error_name)).endswith("ReadOnly")
            intro = DBusAddress(PATH, name, "org.freedesktop.DBus.Introspectable")
            xml = client.send_and_get_reply(new_method_call(intro, "Introspect"), timeout=2)
            assert f'<interface name="{INTERFACE}">' in xml.body[0]
        # A client that calls and goes before the answer: if it is gone before the session
        # can ask the bus whose it is, its call is refused; either way, what is held is what
        # the session says.
        client = open_dbus_connection(bus_env.session_bus.address)
        client.send(new_method_call(here, "Toggle"))
        client.close()
        cocainate.find_sessions()  # answered after the Toggle: that one is done by now
        expected = 0 if session.paused else 1
        wait_until(lambda: held(bus_env) == expected, 3, "the hold as the session says")
        assert session.problems == []


def test_a_command_to_a_session_that_is_ending_says_so(bus_env: Desktop) -> None:
    session = Session(methods=["screensaver"]).start()
    with published(session) as (_name, waiter):
        (found,) = cocainate.find_sessions()
        session.stop()  # from another thread: it is released before this returns
        waiter.join(5)
        with pytest.raises(SessionError, match="has ended"):
            found.toggle()
        assert found.stop() is True  # gone already: stopped


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to call as another user")
def test_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a bus that admits every user (this test's does; a session bus does not), a caller
    of another uid gets AccessDenied and changes nothing; the bus says who calls."""
    import tempfile

    from buses import Bus, StandIn

    root = Path(tempfile.mkdtemp(prefix="cocainate-shared-"))
    root.chmod(0o755)
    bus = Bus(root / "bus", "session")
    (root / "bus").chmod(0o755)
    try:
        StandIn(bus, "screensaver")
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
        session = Session(methods=["screensaver"]).start()
        with published(session) as (name, _waiter):
            call = (
                "import sys; from jeepney import DBusAddress, new_method_call;"
                "from jeepney.io.blocking import open_dbus_connection;"
                "c = open_dbus_connection(sys.argv[1]);"
                "a = DBusAddress(sys.argv[3], sys.argv[2], sys.argv[4]);"
                "r = c.send_and_get_reply(new_method_call(a, 'Toggle'), timeout=5);"
                "print(r.header.fields.get(4), r.body)"
            )
            # jeepney where nobody can read it (a checkout's venv may sit in a private dir)
            import shutil

            import jeepney

            from cocainate.bindings.control import INTERFACE, PATH

            shutil.copytree(Path(jeepney.__file__).parent, root / "lib" / "jeepney")
            for place in (root / "lib", *(root / "lib").rglob("*")):
                place.chmod(0o755 if place.is_dir() else 0o644)
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            argv += [sys.executable, "-c", call, bus.address, name, PATH, INTERFACE]
            env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root / "lib")}
            done = subprocess.run(argv, capture_output=True, text=True, timeout=20, env=env)
            unreadable = ("ModuleNotFoundError", "Permission denied", "cannot open shared object")
            if any(words in done.stderr for words in unreadable):  # a Python under /root, say
                pytest.skip(f"nobody cannot run this Python here: {done.stderr.strip()[-120:]}")
            assert "AccessDenied" in done.stdout, done
            assert not session.paused and session.state == "holding"
            assert cocainate.find_sessions()[0].toggle() is True  # its own user may
    finally:
        bus.close()


def test_two_toggles_at_once_leave_a_state_that_is_held_as_said(bus_env: Desktop) -> None:
    """Two ``toggle`` commands racing: whichever wins, the session holds exactly when it
    says it is not paused, and nothing is held twice or left held."""
    env = bus_env.env
    done = run_cli("on", "-q", "--method", "screensaver", env=env)
    assert done.returncode == 0, done.stderr
    try:
        for _ in range(3):
            racing = [spawn_cli("toggle", "-q", env=env) for _ in range(2)]
            for process in racing:
                said = process.communicate(timeout=20)
                assert process.returncode == 0, said
            found = cocainate.find_sessions()
            if len(found) == 1 and not found[0].paused:
                wait_until(lambda: held(bus_env) == 1, 3, "the hold, resumed")
            else:  # paused, or stopped (a toggle that saw it holding stops a detached hold)
                wait_until(lambda: held(bus_env) == 0, 3, "nothing held")
            if not found:
                assert run_cli("on", "-q", "--method", "screensaver", env=env).returncode == 0
    finally:
        run_cli("stop", "--all", "-q", env=env)
    assert held(bus_env) == 0
