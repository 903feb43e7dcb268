"""Start-up of two cocainate builds against the floor, interleaved in one run.

Each round starts the floor, then each build, in turn, against the same private buses, and
times exec -> the first Inhibit seen by the screensaver stand-in (as benchmarks/run.py
does). Medians, and each one's ratio to the floor's. For a before/after comparison:

    python3 -m venv --system-site-packages /tmp/old && /tmp/old/bin/pip install OLD_CHECKOUT
    python3 -m venv --system-site-packages /tmp/new && /tmp/new/bin/pip install . python-dbusmock
    /tmp/new/bin/python benchmarks/start_compare.py /tmp/old/bin/cocainate /tmp/new/bin/cocainate
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from run import Rig, calls  # noqa: E402

from buses import wait_until  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("builds", nargs="+", help="cocainate executables to compare")
    args = parser.parse_args()
    commands = {"floor": [sys.executable, str(HERE / "floor.py")]}
    commands.update({build: [build, "-q"] for build in args.builds})
    times: dict[str, list[float]] = {name: [] for name in commands}
    rig = Rig(Path(tempfile.mkdtemp(prefix="cocainate-start-")))
    try:
        for _ in range(args.runs):
            for name, argv in commands.items():
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
                times[name].append((seen - begin) * 1000)
                time.sleep(0.15)  # let it finish acquiring before it is stopped
                process.terminate()
                process.wait()
    finally:
        rig.close()
    floor = statistics.median(times["floor"])
    print(f"start: exec -> Inhibit seen, median of {args.runs}, interleaved")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {median:7.2f} ms  {median / floor:5.2f}x  {name}")


if __name__ == "__main__":
    main()
