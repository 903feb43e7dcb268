"""The command line, end to end, as a subprocess against real private buses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from buses import wait_until
from conftest import Desktop, run_cli, spawn_cli


def spawn(desktop: Desktop, *args: str) -> subprocess.Popen[str]:
    return spawn_cli(*args, env=desktop.env)


def started(desktop: Desktop, process: subprocess.Popen[str]) -> None:
    """Wait for the announcement line, which comes once every inhibit is held."""
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "keeping the display awake" in line, line + (
        process.stderr.read() if process.stderr else ""
    )
    assert all(desktop.held().values())


def released_properly(desktop: Desktop) -> None:
    """UnInhibit was called on every service, not merely the connection closed."""
    assert len(desktop.screensaver.calls("UnInhibit")) == 1
    assert len(desktop.gnome.calls("Uninhibit")) == 1
    assert len(desktop.power.calls("UnInhibit")) == 1
    wait_until(desktop.nothing_held, 2, "everything to be released")


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP"])
def test_each_signal_releases_and_exits_0(bus_env: Desktop, signame: str) -> None:
    process = spawn(bus_env)
    started(bus_env, process)
    process.send_signal(getattr(signal, signame))
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert f"(signal {signame})" in out
    assert err == ""
    released_properly(bus_env)


def test_a_signal_ignored_at_start_stays_ignored(bus_env: Desktop) -> None:
    """Under nohup (SIGHUP ignored), a hangup does not end it: the SIGTERM sent after the
    SIGHUP is what it ends on. It used to put its own handler over the ignore."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cocainate"],
        env=bus_env.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),  # as nohup does
    )
    started(bus_env, process)
    process.send_signal(signal.SIGHUP)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "(signal SIGTERM)" in out, out
    released_properly(bus_env)


def test_duration(bus_env: Desktop) -> None:
    begin = time.monotonic()
    result = run_cli("-d", "300ms", env=bus_env.env)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - begin >= 0.3
    assert "until 300ms pass or Ctrl-C" in result.stdout
    assert "(duration elapsed)" in result.stdout
    released_properly(bus_env)


def test_signal_before_the_duration(bus_env: Desktop) -> None:
    process = spawn(bus_env, "-d", "1h")
    started(bus_env, process)
    process.terminate()
    out, _ = process.communicate(timeout=10)
    assert process.returncode == 0 and "(signal SIGTERM)" in out
    released_properly(bus_env)


def test_pid_without_duration(bus_env: Desktop) -> None:
    watched = subprocess.Popen(["sleep", "30"])
    process = spawn(bus_env, "-p", str(watched.pid))
    started(bus_env, process)
    watched.kill()
    watched.wait()
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert f"(process {watched.pid} exited)" in out
    released_properly(bus_env)


def test_several_pids_wait_for_all(bus_env: Desktop) -> None:
    first, second = subprocess.Popen(["sleep", "30"]), subprocess.Popen(["sleep", "30"])
    process = spawn(bus_env, "-p", str(first.pid), "--pid", str(second.pid))
    started(bus_env, process)
    first.kill()
    first.wait()
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(0.3)
    second.kill()
    second.wait()
    out, _ = process.communicate(timeout=10)
    assert process.returncode == 0 and f"(process {second.pid} exited)" in out
    released_properly(bus_env)


def test_duration_before_the_pid(bus_env: Desktop) -> None:
    watched = subprocess.Popen(["sleep", "30"])
    try:
        result = run_cli("-d", "200ms", "-p", str(watched.pid), env=bus_env.env)
    finally:
        watched.kill()
        watched.wait()
    assert result.returncode == 0 and "(duration elapsed)" in result.stdout


def test_sigkill_leaves_nothing_held(bus_env: Desktop) -> None:
    process = spawn(bus_env)
    started(bus_env, process)
    process.kill()
    process.communicate(timeout=10)
    wait_until(bus_env.nothing_held, 3, "the services to drop a killed client's inhibits")
    assert bus_env.screensaver.calls("UnInhibit") == []  # the bus, not cocainate, released


def test_quiet_prints_nothing(bus_env: Desktop) -> None:
    result = run_cli("-q", "-d", "100ms", env=bus_env.env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_verbose_says_what_holds_and_why_others_do_not(bus_env: Desktop) -> None:
    env = dict(bus_env.env, DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent/socket")
    result = run_cli("-v", "-d", "100ms", env=env)
    assert result.returncode == 0
    assert "screensaver [org.freedesktop.ScreenSaver]: held, blocks screen" in result.stderr
    assert (
        "gnome-session [org.gnome.SessionManager]: held, blocks screen and sleep" in result.stderr
    )
    assert (
        "logind [org.freedesktop.login1]: not held: cannot connect to the system bus"
        in result.stderr
    )


def test_mode_system(bus_env: Desktop) -> None:
    process = spawn(bus_env, "--mode", "system")
    assert process.stdout is not None
    assert "keeping the system awake" in process.stdout.readline()
    assert bus_env.screensaver.inhibitors() == []
    assert [row[3] for row in bus_env.gnome.inhibitors()] == [4]
    # its own lock, and gnome-session's for the suspend flag
    assert sorted(row[:2] for row in bus_env.logind.inhibitors()) == [
        ("sleep", "cocainate"),
        ("sleep", "gnome-session"),
    ]
    process.terminate()
    assert process.wait(10) == 0
    process.communicate()


def test_reason_reaches_every_service(bus_env: Desktop) -> None:
    process = spawn(bus_env, "--reason", "slides for the board")
    started(bus_env, process)
    held = bus_env.held()
    assert held["screensaver"][0][2] == "slides for the board"
    assert held["gnome"][0][2] == "slides for the board"
    assert held["power"][0][2] == "slides for the board"
    assert held["logind"][0][2] == "slides for the board"
    process.terminate()
    process.communicate(timeout=10)


def test_default_reason_names_cocainate(bus_env: Desktop) -> None:
    process = spawn(bus_env)
    started(bus_env, process)
    assert bus_env.screensaver.inhibitors()[0][2] == "cocainate is keeping the display awake"
    process.terminate()
    process.communicate(timeout=10)


def test_method_forces_the_mechanisms(bus_env: Desktop) -> None:
    process = spawn(bus_env, "--method", "power-management", "--method", "logind")
    assert process.stdout is not None
    assert "(power-management, logind)" in process.stdout.readline()
    assert bus_env.screensaver.inhibitors() == [] and bus_env.gnome.inhibitors() == []
    process.terminate()
    _, err = process.communicate(timeout=10)
    assert "warning: nothing held keeps the screen on" in err


def test_what_is_announced_is_what_holds(bus_env: Desktop) -> None:
    """logind alone, in display mode, blocks idle sleep and not the screen: the line says
    it keeps the system awake, beside the warning that nothing keeps the screen on."""
    process = spawn(bus_env, "--method", "logind")
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "keeping the system awake (logind)" in line, line
    process.terminate()
    _, err = process.communicate(timeout=10)
    assert "nothing held keeps the screen on" in err


def test_a_command_named_like_a_subcommand_is_suggested_with_dashes() -> None:
    """caffeinate's and systemd-inhibit's habit, `cocainate sleep 1`: refused, with the
    line that does it."""
    done = run_cli("-d", "1h", "sleep", "1", env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 2
    assert done.stderr == (
        "cocainate: 'sleep' is not a subcommand; to hold while it runs: "
        "cocainate -d 1h -- sleep 1\n"
    )


def test_every_subcommand_s_help_describes_it() -> None:
    from cocainate.cli.options import SUBCOMMANDS

    for sub in SUBCOMMANDS:
        done = run_cli(sub.name, "--help", env={"PATH": "/usr/bin:/bin"})
        assert done.returncode == 0
        text = " ".join(done.stdout.split())
        assert f" {sub.help[0].upper()}{sub.help[1:]}. " in text, done.stdout


def test_a_forced_method_that_cannot_serve_the_mode(bus_env: Desktop) -> None:
    result = run_cli("--mode", "system", "--method", "screensaver", env=bus_env.env)
    assert result.returncode == 3
    assert "screensaver: does not serve --mode system" in result.stderr


def test_no_mechanism_is_exit_3_with_a_line_each(tmp_path: object) -> None:
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent/system")
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env.pop("XDG_RUNTIME_DIR", None)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    result = run_cli("-d", "1s", env=env)
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert lines[0] == "cocainate: nothing could keep this machine awake:"
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "screensaver",
        "gnome-session",
        "power-management",
        "x11",
        "wayland",
        "logind",
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-d", "abc"], "invalid duration 'abc'"),
        (["-d", "-5s"], "must not be negative"),
        (["-d", "10x"], "unknown unit 'x'"),
        (["-d", "1e400h"], "unknown unit 'e'"),
        (["-d", ""], "it is empty"),
        (["-p", "0"], "invalid PID '0': it must be positive"),
        (["-p", "-4"], "invalid PID '-4'"),
        (["-p", "abc"], "invalid PID 'abc': not a number"),
        (["--mode", "bright"], "invalid --mode 'bright' (choose from display, system)"),
        (["--method", "nope"], "unknown method 'nope'"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["-q", "-v"], "not allowed with argument"),
        # strict input: ASCII digits only, numbers of any length, dates out of range
        (["-d", "\uff15s"], "invalid duration '\uff15s'"),
        (["-p", "٣"], "invalid PID '٣': not a number"),
        (["-p", " 5"], "invalid PID ' 5': not a number"),
        (["-p", "+5"], "invalid PID '+5': not a number"),
        (
            ["--until", "\uff11\uff17:\uff13\uff10"],
            "invalid time '\uff11\uff17:\uff13\uff10': use ASCII digits",
        ),
        (["-p", "1" * 40], "too large"),
        (["-p", "4294967296"], "too large (at most 2147483647)"),
        (["-d", "9" * 4400 + "s"], "longer than Go's limit"),
        (["-d", "1." + "9" * 4400 + "s", "-p", "0"], "invalid PID '0'"),  # parsed, no traceback
        (["--until", "0001-01-01T00:00"], "invalid time '0001-01-01T00:00'"),
        (["-d", "1h-1m"], "a sign may only come first"),
        (["-d", "5s", "methods"], "'methods' takes no --duration"),
        (["-q", "status"], "'status' takes no --quiet"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(bus_env: Desktop, args: list[str], message: str) -> None:
    result = run_cli(*args, env=bus_env.env)
    assert result.returncode == 2, result
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stdout == ""
    assert bus_env.screensaver.calls() == []


def test_a_pid_that_does_not_exist(bus_env: Desktop) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    result = run_cli("-p", str(dead.pid), env=bus_env.env)
    assert result.returncode == 2
    assert result.stderr == f"cocainate: no process with PID {dead.pid}\n"
    assert bus_env.screensaver.calls() == []


def test_version(bus_env: Desktop) -> None:
    import cocainate

    result = run_cli("version", env=bus_env.env)
    assert (result.returncode, result.stdout) == (0, f"cocainate {cocainate.__version__}\n")
    dashed = run_cli("--version", env=bus_env.env)  # what people type first
    assert (dashed.returncode, dashed.stdout) == (0, result.stdout)
    verbose = run_cli("version", "-v", env=bus_env.env).stdout
    assert "Python 3." in verbose
    assert "Mechanisms usable here: screensaver, gnome-session, power-management, logind" in verbose


def test_a_reason_that_is_not_utf8_is_a_usage_error(bus_env: Desktop) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cocainate", "--reason", b"caf\xe9"],  # Latin-1 bytes
        env=bus_env.env,
        capture_output=True,
        timeout=20,
    )
    assert result.returncode == 2
    assert result.stderr == b"cocainate: the reason is not valid UTF-8 (bytes that are no text?)\n"
    assert bus_env.nothing_held()


def test_minus_zero_is_zero_as_in_go() -> None:
    from cocainate.duration import nanoseconds

    assert nanoseconds("-0") == nanoseconds("+0") == nanoseconds("-0s") == 0


def test_a_session_cannot_wait_for_its_own_process() -> None:
    import os

    import cocainate

    with pytest.raises(cocainate.UsageError, match="is this very process"):
        cocainate.Session(pids=[os.getpid()])
    with pytest.raises(cocainate.UsageError, match="NUL character, which D-Bus cannot carry"):
        cocainate.Session(reason="a\0b")


def test_the_release_line_names_the_command(bus_env: Desktop) -> None:
    result = run_cli("--", "true", env=bus_env.env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # the command's output alone: cocainate speaks on stderr
    start, release = result.stderr.splitlines()
    assert "until true exits" in start
    assert release.endswith("(true exited)"), release


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("garbage", "'garbage' has no 'transport:' in front"),
        ("unix:nonsense=1", "a unix address needs path= or abstract="),
        ("unix:path", "'path' in 'unix:path' is not key=value"),
        ("tcp:host=localhost,port=1", "only unix:path= and unix:abstract= can be used"),
    ],
)
def test_a_bad_bus_address_says_what_is_wrong(address: str, problem: str) -> None:
    import os

    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address)
    result = run_cli("--method", "screensaver", env=env)
    assert result.returncode == 3
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("  screensaver:")]
    assert line.startswith(f"  screensaver: cannot use the session bus address {address!r}: ")
    assert problem in line


def test_methods_lists_each_with_why_not(bus_env: Desktop) -> None:
    env = dict(bus_env.env, DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent/socket")
    header, *lines = run_cli("methods", env=env).stdout.splitlines()
    assert header.split() == ["mechanism", "interface", "modes", "state"]
    # what a session tries unnamed, in its order; then the portal (outside a sandbox) and
    # the lid's lock, which only --lid asks for
    assert lines[-2].startswith("portal") and lines[-2].endswith(
        "neither running nor startable on the session bus; tried only with --method portal"
        " (outside a sandbox)"
    )
    assert lines[-1].startswith("logind-lid") and lines[-1].endswith(
        "; tried only with --lid or --method logind-lid"
    )
    assert lines[0].split()[:3] == ["screensaver", "org.freedesktop.ScreenSaver", "display"]
    assert lines[0].endswith("usable")
    assert lines[3].startswith("x11") and lines[3].endswith(
        "DISPLAY is not set (not an X11 session)"
    )
    assert lines[4].startswith("wayland") and lines[4].endswith(
        "WAYLAND_DISPLAY is not set (not a Wayland session)"
    )
    assert lines[5].startswith("logind")
    assert "not usable: cannot connect to the system bus" in lines[5]


def test_the_console_script_and_module_agree(bus_env: Desktop) -> None:
    script = os.path.join(os.path.dirname(sys.executable), "cocainate")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, env=bus_env.env)
    assert result.returncode == 0 and "--duration" in result.stdout


@pytest.mark.parametrize("wayland", [None, "wayland-9"])
def test_without_pywayland_everything_else_holds(bus_env: Desktop, wayland: str | None) -> None:
    """The base install has no pywayland: that must never cost a traceback."""
    code = (
        "import sys; sys.modules['pywayland'] = None\n"
        "from cocainate.cli import main; sys.exit(main(['-v', '-d', '100ms']))"
    )
    env = dict(bus_env.env, **({"WAYLAND_DISPLAY": wayland} if wayland else {}))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    if wayland:
        assert (
            "wayland [Wayland zwp_idle_inhibit_manager_v1]: not held: pywayland is not installed"
            in result.stderr
        )
