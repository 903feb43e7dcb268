"""cocainate's Windows code on a real Windows CPython: real kernel32 calls, handle sizes,
process handles, waits and console. tools/test runs this file under Wine on Linux
(tests/test_wine.py); on Windows itself it runs as it is. What Wine cannot show (power
requests in ``powercfg /requests``, Ctrl-Break) is in tests/test_native.py, for a real
Windows."""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "win32", reason="Windows")

WINE = sys.platform == "win32" and hasattr(ctypes.WinDLL("ntdll"), "wine_get_version")  # type: ignore[attr-defined,unused-ignore]
TIMEOUT = 60


def sleeper(children: list[subprocess.Popen[bytes]], seconds: int = 60) -> int:
    child = subprocess.Popen(
        ["ping", "-n", str(seconds), "127.0.0.1"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children.append(child)
    return child.pid


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cocainate", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.PIPE,  # under Wine a standard stream must be a pipe or a console
    )


def events(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_duration_with_json_events() -> None:
    result = cli("-d", "300ms", "--json")
    assert result.returncode == 0, result.stderr
    acquired, ended, released = events(result.stdout)
    assert acquired["event"] == "acquired" and acquired["mechanisms"]
    assert ended == {"event": "ended", "time": ended["time"], "reason": "duration"}
    assert released["mechanisms"] == acquired["mechanisms"] and released["problems"] == []
    # The duration is counted on the monotonic clock, the events stamped by the wall clock,
    # which Windows (and Wine) tick more coarsely: a millisecond apart, either way.
    assert float(str(released["time"])) - float(str(acquired["time"])) >= 0.29


def test_pid_of_a_real_windows_process(children: list[subprocess.Popen[bytes]]) -> None:
    pid = sleeper(children, 2)
    result = cli("-p", str(pid))
    assert result.returncode == 0, result.stderr
    assert f"(process {pid} exited)" in result.stdout
    assert children[0].poll() is not None


def test_more_processes_than_one_wait_takes(children: list[subprocess.Popen[bytes]]) -> None:
    """100 real processes (WaitForMultipleObjects takes 64): the session ends when the
    last exits, whichever group it is in."""
    pids = [sleeper(children) for _ in range(100)]
    holder = subprocess.Popen(
        [sys.executable, "-m", "cocainate", "--json", *(f"-p{pid}" for pid in pids)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert json.loads(holder.stdout.readline())["event"] == "acquired"
        for child in children[:-1]:
            child.kill()
            child.wait(TIMEOUT)
        time.sleep(0.5)  # not synchronisation: a window in which it must not end
        assert holder.poll() is None, "ended before the last process exited"
        children[-1].kill()
        out, err = holder.communicate(timeout=TIMEOUT)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.communicate(timeout=TIMEOUT)
    assert holder.returncode == 0, err
    ended = events(out)[0]
    assert ended["reason"] == "process-exit" and ended["pid"] == pids[-1]


def test_a_command_s_exit_status_passes_through() -> None:
    result = cli("--json", "--", "cmd", "/c", "echo the command's && exit 3")
    assert result.returncode == 3, result.stderr
    assert result.stdout.strip() == "the command's"  # stdout is the command's alone
    assert [e["event"] for e in events(result.stderr)] == ["acquired", "ended", "released"]


def test_a_missing_process_is_a_usage_error() -> None:
    result = cli("-p", "999999")
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "no process with PID 999999" in result.stderr


ES_CONTINUOUS, ES_SYSTEM, ES_DISPLAY = 0x80000000, 0x1, 0x2


def wine_execution_state() -> int:
    """Wine keeps one execution state per process, and a call without ES_CONTINUOUS
    leaves a continuous state as it is and returns it: a query (on Windows the state is
    each thread's own, and no other thread can read it)."""
    k32 = ctypes.WinDLL("kernel32")  # type: ignore[attr-defined,unused-ignore]
    k32.SetThreadExecutionState.restype = ctypes.c_uint32
    k32.SetThreadExecutionState.argtypes = [ctypes.c_uint32]
    return int(k32.SetThreadExecutionState(0))


@pytest.mark.skipif(not WINE, reason="reads the state as only Wine lets another thread")
@pytest.mark.parametrize("way_out", ["stop", "exception", "duration", "process-exit"])
def test_execution_state_set_while_held_and_cleared_after(
    way_out: str, children: list[subprocess.Popen[bytes]]
) -> None:
    """Under Wine power requests are stubs, so the fallback holds: its flags are set while
    held and cleared on every way out."""
    import cocainate

    pids = [sleeper(children, 2)] if way_out == "process-exit" else []
    duration = 0.3 if way_out == "duration" else None
    session = cocainate.Session(duration=duration, pids=pids).start()
    try:
        assert session.holding == ("execution-state",)
        assert wine_execution_state() == ES_CONTINUOUS | ES_SYSTEM | ES_DISPLAY
        if way_out == "stop":
            session.stop()
        elif way_out == "exception":
            with pytest.raises(RuntimeError), session:
                raise RuntimeError
        else:
            ended = session.wait(TIMEOUT)
            assert ended is not None and ended.reason.value == way_out
    finally:
        session.stop()
    assert wine_execution_state() == ES_CONTINUOUS
    assert not session.problems


@pytest.mark.skipif(not WINE, reason="reads the state as only Wine lets another thread")
def test_system_mode_leaves_the_display_alone() -> None:
    import cocainate

    with cocainate.inhibit(mode="system"):
        assert wine_execution_state() == ES_CONTINUOUS | ES_SYSTEM
    assert wine_execution_state() == ES_CONTINUOUS


def test_while_running_follows_a_real_windows_process(
    children: list[subprocess.Popen[bytes]],
) -> None:
    """ToolHelp's process list finds ping.exe by name (either case, with or without .exe),
    its process handle says when it exits, and the session holds exactly in between."""
    import threading

    import cocainate

    seen: list[cocainate.Event] = []
    condition = cocainate.ProcessRunning("PING", interval=0.2)
    session = cocainate.Session(conditions=condition, on_event=seen.append).start()
    waiter = threading.Thread(target=session.wait)
    waiter.start()

    def kinds() -> list[str]:
        return [e.kind for e in seen]

    def until(predicate: object, what: str) -> None:
        deadline = time.monotonic() + 20
        while not predicate():  # type: ignore[operator]
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {kinds()}"
            time.sleep(0.05)

    try:
        assert session.state == "waiting" and kinds() == ["waiting"]
        pid = sleeper(children)
        until(lambda: "acquired" in kinds(), "the hold")
        assert seen[-1].condition == f"PING runs (pid {pid})" and session.holding
        children[0].kill()
        children[0].wait()
        until(lambda: "released" in kinds(), "the release")
        assert session.state == "waiting" and session.holding == ()
    finally:
        session.stop()
        waiter.join(10)
    assert kinds()[-1] == "ended"


def test_conditions_windows_lacks_are_one_line() -> None:
    for option, what in (
        ("--while-playing", "media players are followed over D-Bus (MPRIS)"),
        ("--while-fullscreen", "fullscreen windows are followed on X11 and Wayland"),
        ("--only-on-ac", "the power source is followed through UPower"),
    ):
        result = cli(option, "-d", "1s")
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith(f"cocainate: {what}") and "Windows" in result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
