"""Library churn: ``with cocainate.inhibit(methods=["screensaver"]): pass`` in a loop, one
mechanism on a stand-in session bus, beside two bare jeepney loops in the same run (a new
connection per Inhibit-UnInhibit pair, and one connection for all of them), interleaved.
Then the leak check: threads, fds, retained memory and inhibits held after the loop.

    .venv-test/bin/python benchmarks/churn.py [--count 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from buses import Bus, StandIn  # noqa: E402

SCREENSAVER = ("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver")


def rate(loop: Callable[[], None], count: int) -> float:
    begin = time.perf_counter()
    for _ in range(count):
        loop()
    return count / (time.perf_counter() - begin)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="sessions per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cocainate-churn-"))
    bus = Bus(root / "session", "session")
    try:
        service = StandIn(bus, "screensaver")
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = bus.address
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + str(root / "no-system-bus")
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        import cocainate

        address = DBusAddress(SCREENSAVER[1], SCREENSAVER[0], SCREENSAVER[0])
        inhibit = cocainate.inhibit(methods=["screensaver"])

        def library() -> None:
            with inhibit:
                pass

        def pair(connection: object) -> None:
            reply = connection.send_and_get_reply(  # type: ignore[attr-defined]
                new_method_call(address, "Inhibit", "ss", ("churn", "bench"))
            )
            connection.send_and_get_reply(  # type: ignore[attr-defined]
                new_method_call(address, "UnInhibit", "u", (reply.body[0],))
            )

        def fresh() -> None:
            with open_dbus_connection(bus.address) as connection:
                pair(connection)

        shared_connection = open_dbus_connection(bus.address)

        def shared() -> None:
            pair(shared_connection)

        loops = {"cocainate.inhibit()": library, "jeepney, connection each": fresh}
        loops["jeepney, one connection"] = shared
        for loop in loops.values():
            rate(loop, 50)  # warm
        rates: dict[str, list[float]] = {name: [] for name in loops}
        for _ in range(args.rounds):
            for name, loop in loops.items():
                rates[name].append(rate(loop, args.count))
        shared_connection.close()

        def timed() -> None:
            cocainate.Session(methods=["screensaver"], duration=3600).start().stop()

        rate(timed, 50)  # warm: the duration's module is imported by the first
        gc.collect()
        threads, fds = threading.active_count(), len(os.listdir("/proc/self/fd"))
        tracemalloc.start()
        baseline = tracemalloc.take_snapshot()
        rate(timed, 1000)
        gc.collect()
        snapshot = tracemalloc.take_snapshot()
        grown = sum(s.size_diff for s in snapshot.compare_to(baseline, "filename"))
        tracemalloc.stop()
        print(f"{args.rounds} rounds of {args.count}, Python {sys.version.split()[0]}")
        print()
        print("| loop | sessions/s (median) | min | max |")
        print("| --- | ---: | ---: | ---: |")
        for name, got in rates.items():
            print(f"| {name} | {statistics.median(got):.0f} | {min(got):.0f} | {max(got):.0f} |")
        print()
        print(
            f"after 1000 more sessions: threads {threading.active_count() - threads:+d}, "
            f"fds {len(os.listdir('/proc/self/fd')) - fds:+d}, retained memory {grown:+d} B, "
            f"inhibits held {len(service.inhibitors())}"
        )
    finally:
        bus.close()


if __name__ == "__main__":
    main()
