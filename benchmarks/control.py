"""Control of a running hold: what publishing a session costs, and how long a command takes,
on a private session bus with a stand-in screensaver (the hold is a library session in a
thread of this process; the commands are real processes where the row says so).

    .venv-test/bin/python benchmarks/control.py [--count 50]

Rows: ``Session.publish()`` (a connection of its own, Hello, RequestName);
``find_sessions()`` (a connection, ListNames, GetAll); ``RemoteSession.toggle()`` (a
connection and the call); ``cocainate toggle -q`` and ``cocainate status --json`` as
processes; and from a ``pause()`` in the library to the line ``status --follow`` prints.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from buses import Bus, StandIn  # noqa: E402


def timed(work: Callable[[], object], count: int) -> tuple[float, float]:
    """Median and 90th percentile of ``work``'s wall time, in milliseconds."""
    took = []
    for _ in range(count):
        begin = time.perf_counter()
        work()
        took.append((time.perf_counter() - begin) * 1000)
    took.sort()
    return statistics.median(took), took[int(len(took) * 0.9) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cocainate-control-"))
    bus = Bus(root / "session", "session")
    rows: list[tuple[str, float, float]] = []
    try:
        StandIn(bus, "screensaver")
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = bus.address
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + str(root / "no-system-bus")
        import cocainate

        def publish_once() -> None:
            session = cocainate.Session(methods=["screensaver"]).start()
            begin = time.perf_counter()
            session.publish()
            took.append((time.perf_counter() - begin) * 1000)
            session.stop()

        took: list[float] = []
        for _ in range(args.count):
            publish_once()
        took.sort()
        rows.append(("Session.publish()", statistics.median(took), took[int(len(took) * 0.9) - 1]))

        session = cocainate.Session(methods=["screensaver"]).start()
        session.publish()
        waiter = threading.Thread(target=session.wait)
        waiter.start()
        try:
            rows.append(("find_sessions()", *timed(cocainate.find_sessions, args.count)))
            (found,) = cocainate.find_sessions()
            rows.append(("RemoteSession.toggle()", *timed(found.toggle, args.count)))
            session.resume()
            python = [sys.executable, "-m", "cocainate"]
            env = dict(os.environ)
            few = max(5, args.count // 5)
            for command in (["toggle", "-q"], ["status", "--json"]):
                run = lambda c=command: subprocess.run([*python, *c], env=env, capture_output=True)  # noqa: E731
                rows.append((f"cocainate {' '.join(command)} (a process)", *timed(run, few)))
            follower = subprocess.Popen(
                [*python, "status", "--follow"], env=env, stdout=subprocess.PIPE, text=True
            )
            assert follower.stdout is not None
            follower.stdout.readline()
            lags = []
            for _ in range(args.count):
                begin = time.perf_counter()
                (session.resume if session.paused else session.pause)()
                follower.stdout.readline()
                lags.append((time.perf_counter() - begin) * 1000)
            follower.terminate()
            follower.wait()
            lags.sort()
            rows.append(
                (
                    "pause() to status --follow's line",
                    statistics.median(lags),
                    lags[int(len(lags) * 0.9) - 1],
                )
            )
        finally:
            session.stop()
            waiter.join(5)
    finally:
        bus.close()
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  median ms  p90 ms")
    for name, median, p90 in rows:
        print(f"{name:<{width}}  {median:9.2f}  {p90:6.2f}")


if __name__ == "__main__":
    main()
