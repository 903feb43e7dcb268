"""cocainate's benchmarks: start-up, cost while held, memory, release latency, library churn.

Starts its own private buses and services (the test suite's stand-ins and python-dbusmock's
logind), runs cocainate beside the floor (benchmarks/floor.py: import jeepney, connect,
Inhibit) in the same run, and prints a table. Times are medians over --runs runs; the
machine is noisy, so the ratios against the floor are what count.

    .venv-test/bin/python benchmarks/run.py [--runs 15] [--hold 5] [--churn 10000]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from buses import Bus, Logind, StandIn, wait_until  # noqa: E402

FLOOR = [sys.executable, str(HERE / "floor.py")]
FLOOR_FOUR = [sys.executable, str(HERE / "floor_four.py")]
COCAINATE = [os.path.join(os.path.dirname(sys.executable), "cocainate"), "-q"]


class Rig:
    def __init__(self, root: Path) -> None:
        self.system = Bus(root / "system", "system")
        Logind(self.system)
        self.session = Bus(root / "session", "session")
        self.screensaver = StandIn(self.session, "screensaver")
        self.gnome = StandIn(self.session, "gnome")
        self.power = StandIn(self.session, "power")
        self.env = dict(
            os.environ,
            DBUS_SESSION_BUS_ADDRESS=self.session.address,
            DBUS_SYSTEM_BUS_ADDRESS=self.system.address,
        )

    def close(self) -> None:
        self.session.close()
        self.system.close()


def proc_status(pid: int) -> dict[str, str]:
    rows = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(row.split(":\t", 1) for row in rows if ":\t" in row)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wakeups(pid: int) -> int:
    return int(proc_status(pid)["voluntary_ctxt_switches"]) + int(
        proc_status(pid)["nonvoluntary_ctxt_switches"]
    )


def rss_mib(pid: int) -> float:
    return int(proc_status(pid)["VmRSS"].split()[0]) / 1024


def calls(rig: Rig, method: str) -> list[float]:
    return [c[1] for c in rig.screensaver.calls(method)]


def hold(rig: Rig, argv: list[str], hold_for: float = 0) -> dict[str, float]:
    """Start argv, time its first Inhibit; optionally watch it idle; SIGTERM; time UnInhibit."""
    rig.screensaver.reset()
    begin = time.time()
    process = subprocess.Popen(
        argv,
        env=rig.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    (seen,) = wait_until(lambda: calls(rig, "Inhibit"), 10, "Inhibit")
    result = {"start": seen - begin}
    # let it finish acquiring everything else before measuring it at rest
    time.sleep(0.3)
    result["rss"] = rss_mib(process.pid)
    if hold_for:
        cpu0, wake0 = cpu_seconds(process.pid), wakeups(process.pid)
        time.sleep(hold_for)
        result["cpu"] = (cpu_seconds(process.pid) - cpu0) / hold_for * 1000
        result["wakeups"] = (wakeups(process.pid) - wake0) / hold_for
    killed = time.time()
    process.terminate()
    (released,) = wait_until(lambda: calls(rig, "UnInhibit"), 10, "UnInhibit")
    result["sigterm"] = released - killed
    process.wait()
    return result


def pid_exit_release(rig: Rig) -> float:
    rig.screensaver.reset()
    sleeper = subprocess.Popen(["sleep", "60"])
    process = subprocess.Popen(
        [*COCAINATE, "-p", str(sleeper.pid)], env=rig.env, stdin=subprocess.DEVNULL
    )
    wait_until(lambda: calls(rig, "Inhibit"), 10, "Inhibit")
    time.sleep(0.3)
    killed = time.time()
    sleeper.kill()
    (released,) = wait_until(lambda: calls(rig, "UnInhibit"), 10, "UnInhibit")
    sleeper.wait()
    process.wait()
    return released - killed


def duration_release(rig: Rig, seconds: float = 0.5) -> float:
    """How far past the requested duration UnInhibit arrives, counted from the Inhibit. The
    duration counts from the moment the hold is in place, so only the screensaver is held
    here: its Inhibit is that moment."""
    rig.screensaver.reset()
    process = subprocess.Popen(
        [*COCAINATE, "--method", "screensaver", "-d", f"{int(seconds * 1000)}ms"],
        env=rig.env,
        stdin=subprocess.DEVNULL,
    )
    (acquired,) = wait_until(lambda: calls(rig, "Inhibit"), 10, "Inhibit")
    (released,) = wait_until(lambda: calls(rig, "UnInhibit"), 10, "UnInhibit")
    process.wait()
    return released - acquired - seconds


def churn(rig: Rig, count: int) -> dict[str, float]:
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = rig.session.address
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = rig.system.address
    import cocainate

    def one() -> None:
        cocainate.Session(duration=3600).start().stop()

    for _ in range(50):
        one()
    gc.collect()
    threads, fds = threading.active_count(), len(os.listdir("/proc/self/fd"))
    tracemalloc.start()
    baseline = tracemalloc.take_snapshot()
    begin = time.perf_counter()
    for _ in range(count):
        one()
    elapsed = time.perf_counter() - begin
    gc.collect()
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(baseline, "filename"))
    tracemalloc.stop()
    return {
        "rate": count / elapsed,
        "threads": threading.active_count() - threads,
        "fds": len(os.listdir("/proc/self/fd")) - fds,
        "memory": grown,
        "held": sum(len(s.inhibitors()) for s in (rig.screensaver, rig.gnome, rig.power))
        + len(
            rig.system.call(
                "org.freedesktop.login1",
                "/org/freedesktop/login1",
                "org.freedesktop.login1.Manager",
                "ListInhibitors",
            )[0]
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--hold", type=float, default=5.0, help="seconds to watch a held process")
    parser.add_argument("--churn", type=int, default=10_000)
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    rig = Rig(Path(tempfile.mkdtemp(prefix="cocainate-bench-")))
    try:
        c_runs, f_runs, one_runs, four_runs = [], [], [], []
        for i in range(args.runs):  # interleaved, so both see the same noise
            watch = args.hold if i == 0 else 0
            c_runs.append(hold(rig, COCAINATE, watch))
            f_runs.append(hold(rig, FLOOR, watch))
            one_runs.append(hold(rig, [*COCAINATE, "--method", "screensaver"]))
            four_runs.append(hold(rig, FLOOR_FOUR))
        med = lambda runs, key: statistics.median(r[key] for r in runs)  # noqa: E731
        pid_exit = statistics.median(pid_exit_release(rig) for _ in range(args.runs))
        overshoot = statistics.median(duration_release(rig) for _ in range(args.runs))
        result = churn(rig, args.churn)
    finally:
        rig.close()

    ms = 1000
    rows = [
        ("start: exec -> Inhibit seen (ms)", med(c_runs, "start") * ms, med(f_runs, "start") * ms),
        ("CPU while held (ms/s)", c_runs[0]["cpu"], f_runs[0]["cpu"]),
        ("wakeups while held (/s)", c_runs[0]["wakeups"], f_runs[0]["wakeups"]),
        ("RSS while held (MiB)", med(c_runs, "rss"), med(f_runs, "rss")),
        (
            "release: SIGTERM -> UnInhibit seen (ms)",
            med(c_runs, "sigterm") * ms,
            med(f_runs, "sigterm") * ms,
        ),
    ]
    print(
        f"cocainate benchmarks: {args.runs} runs, Python {platform.python_version()}, "
        f"{platform.platform()}, {os.cpu_count()} CPUs"
    )
    print()
    print(f"| {'measure':<42} | {'cocainate':>10} | {'floor':>10} | {'ratio':>6} |")
    print(f"|{'-' * 44}|{'-' * 12}|{'-' * 12}|{'-' * 8}|")
    for name, ours, floor in rows:
        ratio = f"{ours / floor:.2f}" if floor else "-"
        print(f"| {name:<42} | {ours:>10.2f} | {floor:>10.2f} | {ratio:>6} |")
    one = med(one_runs, "sigterm") * ms
    print(
        f"| {'release: SIGTERM -> UnInhibit, 1 mechanism':<42} | {one:>10.2f} | "
        f"{med(f_runs, 'sigterm') * ms:>10.2f} | {one / (med(f_runs, 'sigterm') * ms):>6.2f} |"
    )
    four, ours = med(four_runs, "sigterm") * ms, med(c_runs, "sigterm") * ms
    print(
        f"| {'release, 4 mechanisms: against floor_four':<42} | {ours:>10.2f} | "
        f"{four:>10.2f} | {ours / four:>6.2f} |"
    )
    print(
        f"| {'release: watched PID exits -> UnInhibit (ms)':<42} | {pid_exit * ms:>10.2f} | "
        f"{'-':>10} | {'-':>6} |"
    )
    print(
        f"| {'release: duration end, past request (ms)':<42} | {overshoot * ms:>10.2f} | "
        f"{'-':>10} | {'-':>6} |"
    )
    print()
    print(
        f"library churn: {result['rate']:.0f} sessions/s (start -> stop, 4 mechanisms); after "
        f"{args.churn} early-stopped sessions: threads {result['threads']:+d}, "
        f"fds {result['fds']:+d}, retained memory {result['memory']:+d} B, "
        f"inhibits held by the services {result['held']}"
    )


if __name__ == "__main__":
    main()
