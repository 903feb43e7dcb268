"""The everyday features end to end: --json, --until, -- COMMAND, the progress line and q."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from buses import wait_until
from cocainate import mechanisms
from conftest import Desktop, run_cli, spawn_cli


def test_json_prints_one_object_per_event(bus_env: Desktop) -> None:
    result = run_cli("--json", "-d", "100ms", "--method", "screensaver", env=bus_env.env)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["event"] for e in events] == ["acquired", "ended", "released"]
    assert events[0]["mechanisms"] == ["screensaver"]
    assert events[1]["reason"] == "duration"
    assert events[2] == {
        "event": "released",
        "time": events[2]["time"],
        "mechanisms": ["screensaver"],
        "problems": [],
    }


def test_json_names_the_signal(bus_env: Desktop) -> None:
    process = spawn_cli("--json", env=bus_env.env)
    assert process.stdout is not None
    assert json.loads(process.stdout.readline())["event"] == "acquired"
    process.send_signal(signal.SIGHUP)
    out, _ = process.communicate(timeout=10)
    ended = json.loads(out.splitlines()[0])
    assert (ended["event"], ended["reason"], ended["signal"]) == ("ended", "signal", "SIGHUP")


def test_until_an_iso_time(bus_env: Desktop) -> None:
    target = datetime.now() + timedelta(seconds=1)
    result = run_cli("--until", target.isoformat(timespec="milliseconds"), env=bus_env.env)
    assert result.returncode == 0, result.stderr
    assert "(the time given came)" in result.stdout
    assert time.time() >= target.timestamp()


def test_until_a_clock_time_already_past_means_tomorrow(bus_env: Desktop) -> None:
    past = (datetime.now() - timedelta(minutes=1)).strftime("%H:%M")
    process = spawn_cli("--until", past, env=bus_env.env)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert f"until {past}:00 tomorrow or Ctrl-C" in line
    process.terminate()
    process.communicate(timeout=10)


def test_until_another_day_names_the_date(bus_env: Desktop) -> None:
    later = datetime.now().replace(microsecond=0) + timedelta(days=3)
    process = spawn_cli("--until", later.isoformat(), env=bus_env.env)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert f"until {later:%Y-%m-%d %H:%M:%S} or Ctrl-C" in line, line
    process.terminate()
    process.communicate(timeout=10)


@pytest.mark.parametrize(
    ("value", "message"),
    [("25:00", "use HH:MM"), ("2001-01-01T00:00", "in the past"), ("soon", "invalid time")],
)
def test_bad_until(bus_env: Desktop, value: str, message: str) -> None:
    result = run_cli("--until", value, env=bus_env.env)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_command_exit_status_passes_through(bus_env: Desktop) -> None:
    result = run_cli("-q", "--", sys.executable, "-c", "import sys; sys.exit(7)", env=bus_env.env)
    assert result.returncode == 7, result.stderr
    assert len(bus_env.screensaver.calls("UnInhibit")) == 1


def test_command_held_while_it_runs(bus_env: Desktop) -> None:
    probe = "import os,sys; sys.stdout.write(os.environ.get('X','')); sys.exit(0)"
    process = spawn_cli(
        "--",
        sys.executable,
        "-c",
        f"import time; time.sleep(0.5); {probe}",
        env=dict(bus_env.env, X="seen"),
    )
    assert process.stderr is not None  # with a command, cocainate speaks on stderr
    assert f"until {sys.executable} exits or Ctrl-C" in process.stderr.readline()
    assert bus_env.screensaver.inhibitors()
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert out == "seen"  # the command's own output passes through, alone
    assert f"({sys.executable} exited)" in err  # what the start line named


@pytest.mark.parametrize("how", ["--json", "--while-running"])
def test_with_a_command_nothing_of_cocainate_s_goes_to_stdout(
    bus_env: Desktop, how: str, tmp_path: Path
) -> None:
    """Its events (--json) and a condition's lines go to stderr: stdout is the command's.
    The command starts what --while-running follows, so a line says it holds."""
    program = tmp_path / ("cc" + str(time.monotonic_ns())[-10:])
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    script = (
        "import subprocess; print('first', flush=True); "
        f"subprocess.run([{str(program)!r}, '2.5']); print('last')"
    )
    args = [how] if how == "--json" else [how, program.name]
    result = run_cli(*args, "--", sys.executable, "-c", script, env=bus_env.env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "first\nlast\n"
    if how == "--json":
        events = [json.loads(line)["event"] for line in result.stderr.splitlines()]
        assert events == ["acquired", "ended", "released"]
    else:
        assert "cocainate: holding (" in result.stderr


def test_json_says_in_json_that_lines_were_dropped(bus_env: Desktop) -> None:
    """stdout a full pipe, room for almost nothing more (64 KiB pending, made 300 bytes
    here): what could not be kept is dropped and counted, and the count is a JSON line
    like every other."""
    from streams import full_pipe

    read, write = full_pipe()
    code = (
        "import sys; import cocainate.bindings.output as o; o.LIMIT = 300; "
        "from cocainate.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", code, "--json", "-d", "300ms"], env=bus_env.env, stdout=write
        )
        os.close(write)
        wait_until(lambda: bus_env.screensaver.calls("UnInhibit"), 10, "the release")
        # The "released" event comes just after the UnInhibit: read only once it has been
        # dropped, but well within the exit's drain (DRAIN_SECONDS), which waits for a reader.
        time.sleep(0.3)
        with os.fdopen(read, "rb") as pipe:
            data = pipe.read()  # the filler, then what cocainate wrote as room came
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
    lines = data.lstrip(b"x").decode().splitlines()
    events = [json.loads(line) for line in lines]  # every line is JSON
    assert events[0]["event"] == "acquired"
    assert events[-1]["event"] == "dropped" and events[-1]["lines"] >= 1, events


def test_a_signal_is_forwarded_and_its_death_is_128_plus_n(bus_env: Desktop) -> None:
    process = spawn_cli("-q", "--", "sleep", "30", env=bus_env.env)
    wait_until(lambda: bus_env.screensaver.inhibitors(), 5, "the hold")
    wait_until(lambda: _child_of(process.pid, "sleep"), 5, "the command")
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=10)
    assert process.returncode == 128 + signal.SIGTERM
    assert len(bus_env.screensaver.calls("UnInhibit")) == 1


def test_duration_ends_the_command_politely(bus_env: Desktop) -> None:
    begin = time.monotonic()
    result = run_cli("-q", "-d", "300ms", "--", "sleep", "30", env=bus_env.env)
    assert result.returncode == 128 + signal.SIGTERM
    assert time.monotonic() - begin < 5


def test_a_command_that_ignores_sigterm_is_killed_after_the_grace(bus_env: Desktop) -> None:
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    begin = time.monotonic()
    result = run_cli(
        "-q", "-d", "300ms", "--", sys.executable, "-c", stubborn, env=bus_env.env, timeout=30
    )
    assert result.returncode == 128 + signal.SIGKILL
    assert 5 <= time.monotonic() - begin < 15


@pytest.mark.parametrize(("argv", "status"), [(["no-such-command-here"], 127), (["/"], 126)])
def test_a_command_that_cannot_run(bus_env: Desktop, argv: list[str], status: int) -> None:
    result = run_cli("--", *argv, env=bus_env.env)
    assert result.returncode == status
    assert result.stderr.startswith(f"cocainate: cannot run '{argv[0]}'")
    assert len(bus_env.screensaver.calls("UnInhibit")) == 1


def test_nothing_after_the_separator(bus_env: Desktop) -> None:
    result = run_cli("--", env=bus_env.env)
    assert result.returncode == 2 and "no command after '--'" in result.stderr


def _child_of(pid: int, name: str) -> bool:
    out = subprocess.run(["ps", "-o", "comm=", "--ppid", str(pid)], capture_output=True, text=True)
    return name in out.stdout


def _read_for(fd: int, seconds: float) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out


@contextlib.contextmanager
def at_terminal(
    env: dict[str, str], *args: str
) -> Iterator[tuple[subprocess.Popen[bytes], int, list[Any]]]:
    """cocainate with a pseudo-terminal for stdin, stdout and stderr: the process, the
    terminal's master fd, and [a function reading the terminal's modes now, the modes it
    had before cocainate started, a function setting its modes (as a shell does)]."""
    master, slave = pty.openpty()
    initial = termios.tcgetattr(slave)
    process = subprocess.Popen(
        [sys.executable, "-m", "cocainate", *args],
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    try:
        set_modes = lambda attrs: termios.tcsetattr(slave, termios.TCSANOW, attrs)  # noqa: E731
        yield process, master, [lambda: termios.tcgetattr(slave), initial, set_modes]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
        os.close(slave)


def test_progress_line_at_a_terminal_and_q_stops(bus_env: Desktop) -> None:
    with at_terminal(dict(bus_env.env, TERM="xterm"), "-d", "1h") as (process, master, modes):
        now, initial, *_ = modes
        screen = _read_for(master, 2.5).decode()
        assert "keeping the display awake" in screen
        assert "elapsed, 0:59:5" in screen and "left [" in screen and "q to stop" in screen
        assert screen.count("\x1b[K") >= 2  # redrawn in place, about once a second
        os.write(master, b"q")
        assert process.wait(10) == 0
        assert "(stopped)" in _read_for(master, 1).decode()
        assert now()[3] & termios.ECHO == initial[3] & termios.ECHO  # terminal restored


def test_progress_line_says_what_it_waits_for(bus_env: Desktop) -> None:
    env = dict(bus_env.env, TERM="xterm")
    with at_terminal(env, "-d", "1h", "--while-running", "no-such-prog") as (process, master, _):
        screen = _read_for(master, 2.5).decode()
        assert "awake while no-such-prog runs" in screen
        assert "left [" in screen and "| waiting | q to stop" in screen  # 80 columns: short
        os.write(master, b"q")
        assert process.wait(10) == 0
    assert bus_env.nothing_held()


def set_columns(fd: int, columns: int) -> None:
    import fcntl
    import struct

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))


def drawn_lines(screen: str) -> list[str]:
    """What each redraw left on the line: the text after each erase, to the next one."""
    return [part.split("\r")[0].split("\n")[0] for part in screen.split("\x1b[K")[1:]]


@pytest.mark.parametrize("columns", [40, 80, 200])
def test_the_progress_line_fits_the_terminal(bus_env: Desktop, columns: int) -> None:
    """Four mechanisms held: the line is shortened, never wrapped, at every width."""
    with at_terminal(dict(bus_env.env, TERM="xterm"), "-d", "1h") as (process, master, _):
        set_columns(master, columns)
        process.send_signal(signal.SIGWINCH)
        screen = _read_for(master, 2.2).decode()
        lines = [line for line in drawn_lines(screen) if line]
        assert len(lines) >= 2, screen
        assert all(len(line) < columns for line in lines), lines
        last = lines[-1]
        if columns >= 200:  # room for everything
            assert "screensaver, gnome-session, power-management, logind" in last
            assert "[" in last and "q to stop" in last
        elif columns == 80:
            assert "4 held" in last and "q to stop" in last
        os.write(master, b"q")
        assert process.wait(10) == 0


def test_a_resize_redraws_at_once(bus_env: Desktop) -> None:
    with at_terminal(dict(bus_env.env, TERM="xterm"), "-d", "1h") as (process, master, _):
        set_columns(master, 200)
        process.send_signal(signal.SIGWINCH)
        _read_for(master, 1.2)
        set_columns(master, 40)
        began = time.monotonic()
        process.send_signal(signal.SIGWINCH)
        screen = _read_for(master, 0.3).decode()  # well before the next second's redraw
        lines = [line for line in drawn_lines(screen) if line]
        assert lines and all(len(line) < 40 for line in lines), screen
        assert time.monotonic() - began < 1.0
        os.write(master, b"q")
        assert process.wait(10) == 0


def test_q_works_after_ctrl_z_and_fg(bus_env: Desktop) -> None:
    """Stopped and continued (what Ctrl-Z and fg do), with the terminal put back to line
    mode meanwhile, as a shell does: q still stops it, as a single key."""
    with at_terminal(bus_env.env, "-d", "1h") as (process, master, modes):
        now, initial, set_modes = modes
        _read_for(master, 1.0)
        process.send_signal(signal.SIGSTOP)
        set_modes(initial)  # the shell's own modes, while cocainate is stopped
        process.send_signal(signal.SIGCONT)
        wait_until(lambda: not now()[3] & termios.ICANON, 5, "cbreak mode set again")
        os.write(master, b"q")
        assert process.wait(10) == 0
        assert now()[3] & termios.ICANON == initial[3] & termios.ICANON  # restored at exit


def test_a_command_owns_the_terminal(bus_env: Desktop) -> None:
    """With -- COMMAND at a terminal: no progress line over its output, no 'q to stop'."""
    with at_terminal(bus_env.env, "-d", "1h", "--", "sh", "-c", "sleep 1.5; echo done") as (
        process,
        master,
        _,
    ):
        screen = _read_for(master, 3.0).decode()
        assert process.wait(10) == 0
        assert "\x1b[K" not in screen and "q to stop" not in screen
        assert "done" in screen


def test_progress_line_names_an_until_time_tomorrow(bus_env: Desktop) -> None:
    past = (datetime.now() - timedelta(minutes=1)).strftime("%H:%M")
    with at_terminal(bus_env.env, "--until", past) as (process, master, _):
        set_columns(master, 200)
        process.send_signal(signal.SIGWINCH)
        screen = _read_for(master, 1.5).decode()
        assert "left [" in screen and f"until {past}:00 tomorrow |" in screen
        os.write(master, b"q")
        assert process.wait(10) == 0


def test_no_progress_without_a_terminal(bus_env: Desktop) -> None:
    result = run_cli("-d", "1500ms", env=bus_env.env)
    assert "\r" not in result.stdout and "left [" not in result.stdout


# the portal, outside a sandbox, only when named: last
ORDER = [entry.name for entry in mechanisms.listed("linux")]  # as methods and status list them


def table_rows(out: str, last_header: str) -> dict[str, str]:
    """The rows of an aligned table by their first cell; asserts the alignment and order."""
    header, *lines = out.partition("\n\n")[0].splitlines()  # the running sessions follow
    rows = [line for line in lines if not line.startswith(" ")]  # detail lines are indented
    assert [row.split()[0] for row in rows] == ORDER  # the platform's order, as methods
    column = header.index(last_header)
    for row in rows:  # the last column starts at the same place in every row
        assert row[column - 2 : column] == "  " and row[column] != " ", (row, column)
    return {row.split()[0]: row for row in rows}


def test_status_lists_what_the_services_hold(bus_env: Desktop) -> None:
    before = table_rows(run_cli("status", env=bus_env.env).stdout, "inhibitors")
    assert before["logind"].endswith("none held")
    assert before["power-management"].endswith("not inhibited (it cannot say by whom)")
    assert before["screensaver"].endswith("running; it cannot list its inhibitors")
    holder = spawn_cli("--reason", "status check", env=bus_env.env)
    assert holder.stdout is not None
    holder.stdout.readline()
    try:
        out = run_cli("status", env=bus_env.env).stdout
    finally:
        holder.terminate()
        holder.communicate(timeout=10)
    rows = table_rows(out, "inhibitors")
    lines = out.splitlines()
    assert rows["logind"].endswith("1 held")
    # python-dbusmock's logind template reports every inhibitor with pid 123456
    assert "    idle (block) by cocainate, pid 123456: 'status check'  [cocainate]" in lines
    assert rows["gnome-session"].endswith("1 held")
    assert "    idle by cocainate: 'status check'  [cocainate]" in lines
    assert rows["power-management"].endswith("inhibited (it cannot say by whom)")
    sessions = out.partition("\n\ncocainate sessions:\n")[2].splitlines()
    assert len(sessions) == 1 and "screensaver" in sessions[0], out
    assert sessions[0].startswith(f"  pid {holder.pid} (hold): holding ("), out


def test_status_without_the_services(fresh_bus: object) -> None:
    import os as _os

    rows = table_rows(run_cli("status", env=dict(_os.environ)).stdout, "inhibitors")
    for name in ("screensaver", "gnome-session", "power-management", "portal"):
        assert rows[name].endswith("not running"), rows[name]
    assert "cannot connect to the system bus" in rows["logind"]


def test_methods_is_the_same_kind_of_table(bus_env: Desktop) -> None:
    rows = table_rows(run_cli("methods", env=bus_env.env).stdout, "state")
    assert rows["screensaver"].endswith("usable")
    assert rows["x11"].endswith("not usable: DISPLAY is not set (not an X11 session)")


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "duration"])
def test_the_terminal_is_restored_on_every_way_out(bus_env: Desktop, how: str) -> None:
    args = ["-d", "1s"] if how == "duration" else ["-d", "1h"]
    with at_terminal(bus_env.env, *args) as (process, master, modes):
        now, initial, *_ = modes
        assert "left [" in _read_for(master, 0.8).decode()
        assert now()[3] & termios.ICANON == 0  # cbreak while held
        if how != "duration":
            process.send_signal(getattr(signal, how))
        assert process.wait(10) == 0
        assert now() == initial
