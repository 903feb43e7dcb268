"""What the conditions cost, and how fast a session follows them.

- The process scan: CPU per scan of /proc with N extra processes running (the first scan,
  which reads every name, and the steady one, which reads only the list of PIDs), and a
  real ``cocainate --while-running`` left waiting for a name that never runs: its CPU time
  and its wake-ups (context switches) over the measured span, against the 0.05 % budget.
- Latency: from the moment a condition turns (the test's own command) to the Inhibit, and
  to the UnInhibit, as the stand-in screensaver service timestamps them: a process exiting
  and appearing, an MPRIS player (mpv) playing and pausing, UPower's OnBattery, and a
  window made fullscreen under openbox.

    .venv-test/bin/python benchmarks/conditions.py [--processes 500] [--span 20] [--runs 10]
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
    """A process's CPU seconds (user + system) and context switches so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    switches = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
            switches += int(line.split()[1])
    return cpu, switches


def scan_cost(extra: int, span: float, env: dict[str, str]) -> list[tuple[str, str]]:
    from cocainate.conditions import SCAN_INTERVAL
    from cocainate.watchers.process import _ProcProcesses

    sleepers = [subprocess.Popen(["sleep", "600"]) for _ in range(extra)]
    try:
        total = sum(1 for entry in os.listdir("/proc") if entry.isdigit())
        lister = _ProcProcesses()
        start = time.process_time()
        lister.matching(["no-such-program"])
        first = time.process_time() - start
        steady = []
        for _ in range(50):
            start = time.process_time()
            lister.matching(["no-such-program"])
            steady.append(time.process_time() - start)
        per_scan = statistics.median(steady)

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
        ("first scan (reads every name)", f"{first * 1e3:.2f} ms CPU"),
        ("each later scan (the PID list)", f"{per_scan * 1e3:.3f} ms CPU"),
        (
            f"scan share of a core at {SCAN_INTERVAL:g} s",
            f"{per_scan / SCAN_INTERVAL * 100:.4f} % (budget 0.05 %)",
        ),
        (
            f"a waiting cocainate, {span:g} s",
            f"{cpu1 - cpu0:.3f} s CPU = {share:.4f} % of a core, "
            f"{switches1 - switches0} wake-ups ({span / SCAN_INTERVAL:.0f} scans due)",
        ),
    ]


class Latency:
    """Times from a trigger to the stand-in screensaver's Inhibit and UnInhibit."""

    def __init__(self, service: StandIn) -> None:
        self.service = service

    def measure(
        self,
        runs: int,
        turn_on: Callable[[], None],
        turn_off: Callable[[], None],
    ) -> tuple[list[float], list[float]]:
        on, off = [], []
        for _ in range(runs):
            on.append(self._time("Inhibit", turn_on))
            off.append(self._time("UnInhibit", turn_off))
        return on, off

    def _time(self, method: str, trigger: Callable[[], None]) -> float:
        """Seconds from ``trigger`` to the service's next ``method`` call."""
        count = len(self.service.calls(method))
        t0 = time.time()
        trigger()
        wait_until(lambda: len(self.service.calls(method)) > count, 10, method)
        return self.service.calls(method)[-1][1] - t0


def watched(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    cli = subprocess.Popen(
        [*COCAINATE, "-q", "--method", "screensaver", *args], env=env, stdout=subprocess.DEVNULL
    )
    time.sleep(1.0)  # started: waiting, or holding
    return cli


def row(what: str, on: list[float], off: list[float]) -> tuple[str, str]:
    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1e3:.1f} ms (max {max(values) * 1e3:.1f})"

    return (what, f"on {ms(on)}, off {ms(off)}")


def latencies(runs: int, root: Path, env: dict[str, str], service: StandIn) -> list[Any]:
    from test_conditions import UPower, WindowManager, playerctl, start_mpv

    session_bus: Bus = service.bus
    rows = []
    measure = Latency(service).measure

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

    cli = watched(env, "--while-running", name)
    try:
        rows.append(
            row(f"--while-running (scan every 2 s; {runs} runs)", *measure(runs, start, end))
        )
    finally:
        stop(cli)

    if shutil.which("mpv"):
        player = start_mpv(session_bus)
        try:
            playerctl(session_bus, "pause")
            cli = watched(env, "--while-playing")
            try:
                on, off = measure(
                    runs,
                    lambda: playerctl(session_bus, "play"),
                    lambda: playerctl(session_bus, "pause"),
                )
                rows.append(row("--while-playing (mpv, via playerctl)", on, off))
            finally:
                stop(cli)
        finally:
            stop(player)

    system = Bus(root / "system", "system")
    upower = UPower(system, on_battery=True)
    power_env = dict(env, DBUS_SYSTEM_BUS_ADDRESS=system.address)
    try:
        cli = watched(power_env, "--only-on-ac", "--while-running", "sh")
        try:
            on, off = measure(
                runs, lambda: upower.set_on_battery(False), lambda: upower.set_on_battery(True)
            )
            rows.append(row("--only-on-ac (UPower OnBattery)", on, off))
        finally:
            stop(cli)
    finally:
        upower.stop()
        system.close()

    if shutil.which("openbox") and shutil.which("xmessage"):
        wm = WindowManager()
        try:
            window = wm.window("bench")
            cli = watched(dict(env, DISPLAY=wm.display), "--while-fullscreen")
            try:
                on, off = measure(
                    runs, lambda: wm.fullscreen(window, True), lambda: wm.fullscreen(window, False)
                )
                rows.append(row("--while-fullscreen (openbox, via wmctrl)", on, off))
            finally:
                stop(cli)
        finally:
            wm.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=500)
    parser.add_argument("--span", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        session = Bus(root / "session", "session")
        service = StandIn(session, "screensaver")
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=session.address)
        env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + str(root / "no-system-bus")
        for key in ("DISPLAY", "WAYLAND_DISPLAY"):
            env.pop(key, None)
        try:
            rows = scan_cost(args.processes, args.span, env)
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
