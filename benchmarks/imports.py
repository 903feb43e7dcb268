"""Start-up in instructions: what cocainate's modules on the way to its first Inhibit cost.

Wall-clock start-up (benchmarks/run.py) moves by about ±0.03 of the floor from run to run,
too much to see one module's worth. Instructions counted by valgrind's callgrind do not
move: the same build counts the same to within a few thousand. This prints:

- the floor's parts: Python's own start (``python -c pass``) and its imports (jeepney's
  blocking I/O and signal, which cocainate imports too);
- each of cocainate's modules that ``cocainate -q`` imports before its first Inhibit, in
  the order their imports complete, with what importing it costs once the rows above it
  are imported (a package's ``__init__`` is counted with its first submodule);
- what that sum would make start-up, as a ratio to the floor, if time went as
  instructions. It leaves out the floor's and cocainate's connect and Inhibit, which
  ``benchmarks/run.py`` showed to differ by well under a millisecond.

    python benchmarks/imports.py            # the installed cocainate (pip install .)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

# What the CLI imports up to Holdings.acquire() of the screensaver mechanism, the first
# Inhibit: the table and its fast parser, the session and what Session.start() loads
# before acquiring.
PATH_TARGETS = (
    "cocainate.cli.run",
    "cocainate.core.session",
    "cocainate.reactor",
    "cocainate.core.signals",
    "cocainate.core.holdings",
    "cocainate.bindings.buses",
    "cocainate.mechanisms.freedesktop_screensaver",
)
FLOOR_IMPORTS = "import jeepney.io.blocking, signal"
# As cocainate's entry point does: no collections during start-up.
PRELUDE = "import gc; gc.disable(); " + FLOOR_IMPORTS


def instructions(code: str) -> int:
    """Instructions ``python -c code`` executes, start to exit."""
    valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    done = subprocess.run(
        [*valgrind, sys.executable, "-c", code],
        env={**os.environ, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    assert found, done.stderr
    return int(found.group(1))


def path_modules() -> list[str]:
    """cocainate's modules among PATH_TARGETS' imports, in the order they complete."""
    code = f"{PRELUDE}\nimport " + ", ".join(PATH_TARGETS)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    )
    names = [line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if "|" in line]
    return [name for name in names if name.startswith("cocainate")]


def main() -> None:
    if shutil.which("valgrind") is None:
        sys.exit("imports.py: needs valgrind (apt-get install valgrind)")
    bare = instructions("pass")
    base = instructions(PRELUDE)
    floor = instructions(FLOOR_IMPORTS)
    print(f"{'':44} {'instructions':>14}")
    print(f"{'Python starts (python -c pass)':44} {bare:>14,}")
    print(f"{'the floor imports: ' + FLOOR_IMPORTS[7:]:44} {floor - bare:>14,}")
    print()
    print(f"{'cocainate, on the way to the first Inhibit':44} {'each':>14}  {'share':>6}")
    rows = []
    imported: list[str] = []
    before = base
    for name in path_modules():
        imported.append(name)
        now = instructions(PRELUDE + "\nimport " + ", ".join(imported))
        rows.append((name, now - before))
        before = now
    total = before - base
    for name, cost in rows:
        print(f"  {name:42} {cost:>14,}  {cost / total:6.1%}")
    print(f"  {f'all {len(rows)} modules':42} {total:>14,}")
    print()
    print(f"start-up, as instructions: {(floor + total) / floor:.3f}x the floor's")


if __name__ == "__main__":
    main()
