"""Start-up of two cocainate builds against the floor, interleaved in one run.

Each round starts the floor, then each build, in turn, against the same private buses, and
times exec -> the first Inhibit seen by the screensaver stand-in (benchmarks/run.py's
``hold``). Medians, and each one's ratio to the floor's. For a before/after comparison:

    python3 -m venv --system-site-packages /tmp/old && /tmp/old/bin/pip install OLD_CHECKOUT
    python3 -m venv --system-site-packages /tmp/new && /tmp/new/bin/pip install . python-dbusmock
    /tmp/new/bin/python benchmarks/start_compare.py /tmp/old/bin/cocainate /tmp/new/bin/cocainate
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from run import Rig, hold  # noqa: E402


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
                times[name].append(hold(rig, argv)["start"] * 1000)
    finally:
        rig.close()
    floor = statistics.median(times["floor"])
    print(f"start: exec -> Inhibit seen, median of {args.runs}, interleaved")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {median:7.2f} ms  {median / floor:5.2f}x  {name}")


if __name__ == "__main__":
    main()
