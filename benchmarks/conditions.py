"""What the conditions cost, and how fast a session follows them.

- The process scan: CPU per scan of /proc with N extra processes running (the first scan,
  which reads every name, and the steady one, which reads only the list of PIDs), and a
  real ``cocainate --while-running`` left waiting for a name that never runs: its CPU time
  and its wake-ups (context switches) over the measured span, against the 0.05 % budget.
- Latency: from the moment a condition turns (the test's own command) to the Inhibit, and
  to the UnInhibit, as the stand-in screensaver service timestamps them: a process exiting
  and appearing, an MPRIS player (mpv) playing and pausing, UPower's OnBattery and its
  battery's charge, logind's LockedHint and remote sessions, a range of hours beginning
  and ending on the wall clock, a PulseAudio stream unmuted and muted, and a window made
  fullscreen under openbox. Each runs with
  ``--linger 0``: the latency of following, not the linger the command line adds.

    .venv-test/bin/python benchmarks/conditions.py [--processes 500] [--span 20] [--runs 10]
        [--only --not-when-locked]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from buses import Bus, StandIn, stop, wait_until  # noqa: E402

COCAINATE = [os.path.join(os.path.dirname(sys.executable), "cocainate")]


def cpu_and_switches(pid: int) -> tuple[float, int]:
    """A process's CPU seconds (schedstat's, to the nanosecond) and context switches so far."""
    cpu = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9  # ns on a CPU
    switches = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
            switches += int(line.split()[1])
    return cpu, switches


def scan_cost(extra: int, span: float, env: dict[str, str]) -> list[tuple[str, str]]:
    from cocainate.conditions import SCAN_INTERVAL
    from cocainate.watchers.process import FULL_EVERY, RENAME_EVERY, YOUNG, _ProcProcesses

    sleepers = [subprocess.Popen(["sleep", "600"]) for _ in range(extra)]
    time.sleep(YOUNG + 0.5)  # past their first seconds, when names are read at every scan
    try:
        total = sum(1 for entry in os.listdir("/proc") if entry.isdigit())
        lister = _ProcProcesses()
        start = time.process_time()
        lister.matching(["no-such-program"])
        first = time.process_time() - start
        steady = []
        for _ in range(FULL_EVERY - 1):  # the scans between two full reads of /proc
            start = time.process_time()
            lister.matching(["no-such-program"])
            steady.append(time.process_time() - start)
        per_scan = statistics.median(steady)
        start = time.process_time()
        lister.matching(["no-such-program"])  # the 30th: a full read, the names kept
        full = time.process_time() - start
        average = (per_scan * (FULL_EVERY - 1) + full) / FULL_EVERY + first / RENAME_EVERY

        cli = subprocess.Popen(
            [*COCAINATE, "-q", "--while-running", "no-such-program"],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            time.sleep(1.0)  # past the start
            cpu0, switches0 = cpu_and_switches(cli.pid)
            time.sleep(span)
            cpu1, switches1 = cpu_and_switches(cli.pid)
        finally:
            stop(cli)
    finally:
        for process in sleepers:
            process.kill()
            process.wait()
    share = (cpu1 - cpu0) / span * 100
    return [
        ("processes running", f"{total}"),
        (f"first scan, and every {RENAME_EVERY}th (reads every name)", f"{first * 1e3:.2f} ms CPU"),
        ("a later scan (new PIDs only)", f"{per_scan * 1e3:.3f} ms CPU"),
        (f"a full read of /proc (every {FULL_EVERY} scans)", f"{full * 1e3:.3f} ms CPU"),
        (
            f"scan share of a core at {SCAN_INTERVAL:g} s",
            f"{average / SCAN_INTERVAL * 100:.4f} % (scans alone, on average; budget 0.05 %)",
        ),
        (
            f"a waiting cocainate, {span:g} s",
            f"{(cpu1 - cpu0) * 1e3:.1f} ms CPU = {share:.4f} % of a core, "
            f"{switches1 - switches0} wake-ups ({span / SCAN_INTERVAL:.0f} scans due)",
        ),
    ]


SPACED = 1.1
"""Seconds between two turns of a condition: a session changes at most once a second
(``following.SWITCH_SPACING``), and a turn sooner would measure that wait."""


class Latency:
    """Times from a trigger to the stand-in screensaver's Inhibit and UnInhibit."""

    def __init__(self, service: StandIn) -> None:
        self.service = service

    def measure(
        self,
        runs: int,
        turn_on: Callable[[], float | None],
        turn_off: Callable[[], float | None],
    ) -> tuple[list[float], list[float]]:
        on, off = [], []
        for _ in range(runs):
            on.append(self._time("Inhibit", turn_on))
            off.append(self._time("UnInhibit", turn_off))
        return on, off

    def _time(self, method: str, trigger: Callable[[], float | None]) -> float:
        """Seconds from the condition turning to the service's next ``method`` call: from
        when ``trigger`` says it turned, else from the trigger."""
        count = len(self.service.calls(method))
        time.sleep(SPACED)  # past the session's spacing of changes: its latency, not the wait
        t0 = time.time()
        t0 = trigger() or t0
        wait_until(lambda: len(self.service.calls(method)) > count, 10, method)
        return self.service.calls(method)[-1][1] - t0


class Player:
    """mpv's MPRIS interface, and the moment its PlaybackStatus signal went out: mpv takes
    about 100 ms to announce a change (measured here), and the condition turns when it
    does, so that is where the latency counts from."""

    def __init__(self, bus: Bus) -> None:
        from jeepney import MatchRule, message_bus
        from jeepney.io.blocking import open_dbus_connection

        self.bus = bus
        self.connection = open_dbus_connection(bus.address)
        self.rule = MatchRule(
            type="signal", interface="org.freedesktop.DBus.Properties", member="PropertiesChanged"
        )
        self.connection.send_and_get_reply(message_bus.AddMatch(self.rule))
        self.delays: list[float] = []

    def call(self, method: str) -> float:
        """Call ``method``; the time the player announced the change."""
        from jeepney import DBusAddress, new_method_call

        address = DBusAddress(
            "/org/mpris/MediaPlayer2", "org.mpris.MediaPlayer2.mpv", "org.mpris.MediaPlayer2.Player"
        )
        expected = ("s", {"Play": "Playing", "Pause": "Paused"}[method])
        with self.connection.filter(self.rule, bufsize=100) as queue:
            sent = time.time()
            self.connection.send_and_get_reply(new_method_call(address, method), timeout=5)
            while True:  # the change this call made, not an earlier one still unread
                changed = self.connection.recv_until_filtered(queue, timeout=5).body[1]
                if changed.get("PlaybackStatus") == expected:
                    break
        announced = time.time()
        self.delays.append(announced - sent)
        return announced

    def close(self) -> None:
        self.connection.close()


def watched(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    cli = subprocess.Popen(
        [*COCAINATE, "-q", "--method", "screensaver", "--linger", "0", *args],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # started: waiting, or holding
    return cli


def row(what: str, on: list[float], off: list[float]) -> tuple[str, str]:
    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1e3:.1f} ms (max {max(values) * 1e3:.1f})"

    return (what, f"on {ms(on)}, off {ms(off)}")


ONLY = ""
"""--only: the latency rows whose name has this in it (all: "")."""

IDLE = 10.0
"""Seconds a waiting cocainate is watched for wake-ups while nothing changes."""


def idle(what: str, cli: subprocess.Popen[bytes]) -> tuple[str, str]:
    """Wake-ups of a cocainate that waits while nothing changes, over :data:`IDLE` s, once
    the last change has been handled (half a second, as tests/test_sleeping.py gives)."""
    time.sleep(0.5)
    _cpu, before = cpu_and_switches(cli.pid)
    time.sleep(IDLE)
    _cpu, after = cpu_and_switches(cli.pid)
    return (f"  {what}, nothing changing for {IDLE:g} s", f"{after - before} wake-ups")


def latencies(runs: int, root: Path, env: dict[str, str], service: StandIn) -> list[Any]:
    from buses import Logind
    from test_conditions import UPower, WindowManager, playerctl, start_mpv

    session_bus: Bus = service.bus
    rows: list[tuple[str, str]] = []
    measure = Latency(service).measure

    def follow(
        what: str,
        env: dict[str, str],
        option: list[str],
        on: Callable[[], float | None],
        off: Callable[[], float | None],
        waiting: str | None = None,
        started: Callable[[], object] | None = None,
    ) -> None:
        """A cocainate waiting on ``option``: its latencies both ways, then (``waiting``)
        its wake-ups while nothing changes. ``started``: what makes it wait, once it runs
        (an event it would not see before, as logind's Lock)."""
        if ONLY and ONLY not in what:
            return
        cli = watched(env, *option)
        if started is not None:
            started()
        try:
            rows.append(row(what, *measure(runs, on, off)))
            if waiting is not None:
                rows.append(idle(waiting, cli))
        finally:
            stop(cli)

    # a process: its exit is a pidfd; its start waits for the next scan
    name = "ccbench" + str(os.getpid())[-6:]
    program = root / name
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    running: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        running.append(subprocess.Popen([str(program), "600"]))

    def end() -> None:
        running[-1].kill()
        running[-1].wait()

    what = f"--while-running (scan every 2 s; {runs} runs)"
    follow(what, env, ["--while-running", name], start, end)

    if shutil.which("mpv"):
        player = start_mpv(session_bus)
        mpv = Player(session_bus)
        try:
            playerctl(session_bus, "pause")
            play, pause = (lambda: mpv.call("Play")), (lambda: mpv.call("Pause"))
            what = "--while-playing (from mpv's signal)"
            follow(what, env, ["--while-playing"], play, pause, "waiting, mpv paused")
            if mpv.delays:
                delay = statistics.median(mpv.delays) * 1e3
                rows.append(("  mpv's own delay, Play/Pause to its signal", f"{delay:.1f} ms"))
        finally:
            mpv.close()
            stop(player)

    if shutil.which("pulseaudio") and shutil.which("paplay"):
        audio(follow, env, root)

    system = Bus(root / "system", "system")
    upower = UPower(system, on_battery=True)
    try:
        follow(
            "--only-on-ac (UPower OnBattery)",
            dict(env, DBUS_SYSTEM_BUS_ADDRESS=system.address),
            ["--only-on-ac"],
            lambda: upower.set_on_battery(False),
            lambda: upower.set_on_battery(True),
            "waiting, on battery",
        )
    finally:
        upower.stop()
        system.close()

    system = Bus(root / "system2", "system")
    logind = Logind(system)
    upower = UPower(system, on_battery=True)
    try:
        wait_until(lambda: system.has_owner(UPower.name) and system.has_owner(Logind.name), 10)
        env2 = dict(env, DBUS_SYSTEM_BUS_ADDRESS=system.address)
        on_system_bus(follow, env2, system, upower, service)
    finally:
        upower.stop()
        stop(logind.process)
        system.close()
    if not ONLY or ONLY in "--between":
        rows.append(hours(service, env, min(runs, 3)))

    if shutil.which("openbox") and shutil.which("xmessage"):
        wm = WindowManager()
        try:
            window = wm.window("bench")
            follow(
                "--while-fullscreen (openbox, via wmctrl)",
                dict(env, DISPLAY=wm.display),
                ["--while-fullscreen"],
                lambda: wm.fullscreen(window, True),
                lambda: wm.fullscreen(window, False),
                "waiting, a window not fullscreen",
            )
        finally:
            wm.close()

    if shutil.which("sway") and shutil.which("swaymsg"):
        on_sway(follow, env)
    return rows


def audio(follow: Callable[..., None], env: dict[str, str], root: Path) -> None:
    """A real PulseAudio with paplay playing into a null sink; the stream muted and
    unmuted through pulsectl, in this process (the time counts from before the call)."""
    import pulsectl

    from test_audio import Pulse

    pulse = Pulse(root / "pulse")
    try:
        pulse.play()
        (stream,) = pulse.streams()
        os.environ["PULSE_SERVER"] = pulse.server
        with pulsectl.Pulse("bench") as client:

            def mute(yes: bool) -> float:
                t0 = time.time()
                client.sink_input_mute(stream, yes)
                return t0

            follow(
                "--while-audio (paplay's stream unmuted and muted)",
                dict(env, PULSE_SERVER=pulse.server),
                ["--while-audio"],
                lambda: mute(False),
                lambda: mute(True),
                "waiting, the stream muted",
            )
    finally:
        pulse.close()


def on_system_bus(
    follow: Callable[..., None], env: dict[str, str], system: Bus, upower: Any, saver: StandIn
) -> None:
    """--min-battery (UPower's display device), --not-when-locked (logind's LockedHint,
    its Lock and Unlock, the screensaver's ActiveChanged) and --while-remote (logind's
    SessionNew and SessionRemoved), on python-dbusmock's UPower and logind and the
    stand-in screensaver."""
    login, mock = "org.freedesktop.login1", "org.freedesktop.DBus.Mock"
    display = "/org/freedesktop/UPower/devices/DisplayDevice"

    def charge(percent: float) -> None:
        body = (display, {"Percentage": ("d", percent)})
        system.call(
            upower.name, "/org/freedesktop/UPower", mock, "SetDeviceProperties", "oa{sv}", body
        )

    body = (2, 2, 10.0, 0.0, 0.0, 0.0, 0, 0, True, "", 1)  # on battery, low: waiting
    system.call(
        upower.name, "/org/freedesktop/UPower", mock, "SetupDisplayDevice", "uuddddxxbsu", body
    )
    follow(
        "--min-battery 20 (UPower Percentage)",
        env,
        ["--min-battery", "20"],
        lambda: charge(50.0),
        lambda: charge(10.0),
        "waiting, on battery at 10 %",
    )
    manager = "/org/freedesktop/login1"
    made = [0]

    def session(remote: bool) -> tuple[str, str]:
        made[0] += 1
        number = f"b{made[0]}"
        args = (number, "seat0", 2000 + made[0], "bench", True)
        path = str(system.call(login, manager, mock, "AddSession", "ssusb", args)[0])
        props = ("org.freedesktop.login1.Session", "Remote", ("b", remote))
        system.call(login, path, "org.freedesktop.DBus.Properties", "Set", "ssv", props)
        return number, path

    ours, path = session(False)

    def locked(yes: bool) -> None:
        system.call(login, path, "org.freedesktop.login1.Session", "SetLockedHint", "b", (yes,))

    locked(True)  # it starts waiting
    follow(
        "--not-when-locked (logind LockedHint)",
        dict(env, XDG_SESSION_ID=ours),
        ["--not-when-locked"],
        lambda: locked(False),
        lambda: locked(True),
        "waiting, the session locked",
    )
    locked(False)

    def ask(member: str) -> None:  # as loginctl lock-session and unlock-session do
        system.call(login, path, "org.freedesktop.login1.Session", member)

    follow(
        "--not-when-locked (logind's Lock, Unlock)",
        dict(env, XDG_SESSION_ID=ours),
        ["--not-when-locked"],
        lambda: ask("Unlock"),
        lambda: ask("Lock"),
        started=lambda: ask("Lock"),  # an event, not a state: said once it listens
    )
    ask("Unlock")
    saver.set_active(True)
    follow(
        "--not-when-locked (the screensaver's ActiveChanged)",
        dict(env, XDG_SESSION_ID=ours),
        ["--not-when-locked"],
        lambda: saver.set_active(False),
        lambda: saver.set_active(True),
        "waiting, the screensaver active",
    )
    saver.set_active(False)
    remote: list[tuple[str, str]] = []

    def emit(member: str, number: str, where: str) -> None:
        args = ("org.freedesktop.login1.Manager", member, "so", [("s", number), ("o", where)])
        system.call(login, manager, mock, "EmitSignal", "sssav", args)

    def log_in() -> None:
        remote.append(session(True))
        emit("SessionNew", *remote[-1])

    def log_out() -> None:
        number, where = remote.pop()
        system.call(login, manager, mock, "RemoveObject", "o", (where,))
        emit("SessionRemoved", number, where)

    follow(
        "--while-remote (logind SessionNew, SessionRemoved)",
        env,
        ["--while-remote"],
        log_in,
        log_out,
        "waiting, no remote login",
    )


def hours(service: StandIn, env: dict[str, str], runs: int) -> tuple[str, str]:
    """--between: from a range's start and end on the wall clock to the Inhibit and the
    UnInhibit (the timer's own lateness; a range of seconds, so each run takes 4 s)."""
    on, off = [], []
    for _ in range(runs):
        begin = int(time.time()) + 2
        start, end = (time.strftime("%H:%M:%S", time.localtime(t)) for t in (begin, begin + 2))
        cli = subprocess.Popen(
            [
                *COCAINATE,
                "-q",
                "--method",
                "screensaver",
                "--linger",
                "0",
                "--between",
                f"{start}-{end}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            count = len(service.calls("UnInhibit"))
            ended = lambda n=count: len(service.calls("UnInhibit")) > n  # noqa: E731
            wait_until(ended, 10, "the end of the range")
            on.append(service.calls("Inhibit")[-1][1] - begin)
            off.append(service.calls("UnInhibit")[-1][1] - (begin + 2))
        finally:
            stop(cli)
    return row(f"--between (a range's start and end; {runs} runs)", on, off)


def on_sway(follow: Callable[..., None], env: dict[str, str]) -> None:
    """--while-fullscreen on a headless sway (wlr-foreign-toplevel-management), a real
    window made fullscreen by swaymsg."""
    from sway import Sway

    sway = Sway()
    window = subprocess.Popen(
        [sys.executable, str(HERE.parent / "tests" / "wayland_window.py"), "film"],
        env=sway.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert window.stdout is not None and window.stdout.readline().strip() == "mapped"

        def swaymsg(command: str) -> None:
            subprocess.run(["swaymsg", "-s", sway.ipc, command], check=True, capture_output=True)

        env = dict(env, WAYLAND_DISPLAY=sway.display, XDG_RUNTIME_DIR=str(sway.runtime))
        follow(
            "--while-fullscreen (sway, via swaymsg)",
            env,
            ["--while-fullscreen"],
            lambda: swaymsg("[app_id=film] fullscreen enable"),
            lambda: swaymsg("[app_id=film] fullscreen disable"),
            "waiting, a window not fullscreen",
        )
    finally:
        stop(window)
        sway.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=500)
    parser.add_argument("--span", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--scan-only", action="store_true", help="measure the scan alone")
    parser.add_argument("--only", help="only the latency rows whose name has this in it")
    args = parser.parse_args()
    global ONLY
    ONLY = args.only or ""

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        session = Bus(root / "session", "session")
        service = StandIn(session, "screensaver")
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=session.address)
        env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + str(root / "no-system-bus")
        for key in ("DISPLAY", "WAYLAND_DISPLAY"):
            env.pop(key, None)
        try:
            rows = [] if ONLY else scan_cost(args.processes, args.span, env)
            if not args.scan_only:
                rows += latencies(args.runs, root, env, service)
        finally:
            service.stop()
            session.close()
    width = max(len(what) for what, _ in rows)
    print(f"{'what':<{width}}  measured")
    for what, value in rows:
        print(f"{what:<{width}}  {value}")


if __name__ == "__main__":
    main()
