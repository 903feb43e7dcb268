"""Pause and resume a running hold: ``Session.pause()`` / ``resume()`` in the library, and
SIGUSR1 for the command line and ``watch`` (for hotkey daemons that can only send a
signal). Paused, nothing is held and the conditions go on being followed. On the test
desktop's stand-in services, which record every Inhibit and UnInhibit."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
from pathlib import Path

from buses import stop, wait_until
from cocainate import ProcessRunning, Session
from conftest import Desktop, named_program, spawn_cli


def screensaver_holds(desktop: Desktop) -> int:
    return len(desktop.held()["screensaver"])


def test_pause_lets_go_and_resume_holds_again(bus_env: Desktop) -> None:
    events: list[tuple[str, str | None]] = []
    session = Session(
        methods=["screensaver"], on_event=lambda e: events.append((e.kind, e.condition))
    )
    session.start()
    try:
        session.pause()
        session.pause()  # idempotent
        session.wait(0.3)
        assert session.paused and session.state == "waiting" and session.holding == ()
        assert screensaver_holds(bus_env) == 0
        session.resume()
        session.wait(0.3)
        assert not session.paused and session.state == "holding"
        assert screensaver_holds(bus_env) == 1
    finally:
        session.stop()
    assert ("released", "paused") in events and ("acquired", "resumed") in events
    assert len(bus_env.screensaver.calls("Inhibit")) == 2  # one at start, one on resume


def test_pause_from_another_thread_wakes_the_wait(bus_env: Desktop) -> None:
    session = Session(methods=["screensaver"], duration=60).start()
    try:
        waiter = threading.Thread(target=session.wait, args=(30,))
        waiter.start()
        session.pause()  # the waiting thread sleeps in poll: it must be woken to let go
        wait_until(lambda: screensaver_holds(bus_env) == 0, 3, "the pause to let go")
        session.resume()
        wait_until(lambda: screensaver_holds(bus_env) == 1, 3, "the resume to hold")
    finally:
        session.stop()
        waiter.join(5)
    assert not waiter.is_alive()


def test_paused_conditions_are_still_followed(bus_env: Desktop, tmp_path: Path) -> None:
    name = "ccpause" + str(tmp_path.stat().st_ino)[-6:]
    program = tmp_path / name
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    running = subprocess.Popen([str(program), "60"])
    try:
        session = Session(conditions=[ProcessRunning(name, interval=0.1)], methods=["screensaver"])
        session.start()
        try:
            assert session.state == "holding"
            session.pause()
            session.wait(0.3)
            assert session.holding == () and screensaver_holds(bus_env) == 0
            running.kill()
            running.wait()
            session.wait(0.5)  # followed while paused: the process is gone
            session.resume()
            session.wait(0.5)
            assert session.state == "waiting"  # nothing to hold for
            assert screensaver_holds(bus_env) == 0
        finally:
            session.stop()
    finally:
        running.kill()
        running.wait()


def test_sigusr1_toggles_a_hold_from_the_command_line(bus_env: Desktop) -> None:
    cli = spawn_cli("--method", "screensaver", env=bus_env.env)
    try:
        assert cli.stdout is not None
        assert "keeping the display awake (screensaver)" in cli.stdout.readline()
        cli.send_signal(signal.SIGUSR1)
        assert cli.stdout.readline().strip() == "cocainate: let go: paused"
        assert screensaver_holds(bus_env) == 0
        cli.send_signal(signal.SIGUSR1)
        assert cli.stdout.readline().strip() == "cocainate: holding (screensaver): resumed"
        assert screensaver_holds(bus_env) == 1
        cli.terminate()
        assert cli.wait(5) == 0
    finally:
        stop(cli)


def test_sigusr1_toggles_watch(bus_env: Desktop, tmp_path: Path) -> None:
    name, running = named_program(tmp_path, "ccusr1", 'method = ["screensaver"]\n')
    env = dict(bus_env.env, XDG_CONFIG_HOME=str(tmp_path))
    cli = spawn_cli("watch", "--json", env=env)
    try:
        assert cli.stdout is not None
        first = cli.stdout.readline()
        assert first, cli.communicate(timeout=5)
        assert json.loads(first)["event"] == "acquired"
        cli.send_signal(signal.SIGUSR1)
        released = json.loads(cli.stdout.readline())
        assert (released["event"], released["condition"]) == ("released", "paused")
        cli.send_signal(signal.SIGUSR1)
        acquired = json.loads(cli.stdout.readline())
        assert acquired["event"] == "acquired"  # and why: the condition met
        assert acquired["condition"] == f"{name} runs (pid {running.pid})"
        cli.terminate()
        assert cli.wait(5) == 0
    finally:
        stop(cli)
        running.kill()
        running.wait()
    wait_until(bus_env.nothing_held, 3, "nothing held")


def test_a_condition_paused_alone(bus_env: Desktop, tmp_path: Path) -> None:
    import pytest

    from cocainate import UsageError

    programs = []
    for tag in ("a", "b"):
        name = f"ccp{tag}" + str(tmp_path.stat().st_ino)[-6:]
        shutil.copy(shutil.which("sleep") or "/bin/sleep", tmp_path / name)
        programs.append((name, subprocess.Popen([str(tmp_path / name), "60"])))
    first, second = (ProcessRunning(name, interval=0.1) for name, _ in programs)
    session = Session(conditions=[first, second], methods=["screensaver"]).start()
    try:
        assert session.state == "holding"
        session.pause(first)
        session.wait(0.3)
        assert session.state == "holding"  # the other still calls for it
        session.pause(second)
        session.wait(0.3)
        assert session.state == "waiting" and screensaver_holds(bus_env) == 0
        assert session.paused_conditions == (first, second) and not session.paused
        assert session.conditions_now.endswith("(paused)")
        session.resume(second)
        session.wait(0.3)
        assert session.state == "holding" and screensaver_holds(bus_env) == 1
        assert list(session.paused_conditions) == [first]
        with pytest.raises(UsageError, match="is not one of this session's conditions"):
            session.pause(ProcessRunning("elsewhere"))
    finally:
        session.stop()
        for _name, process in programs:
            process.kill()
            process.wait()
