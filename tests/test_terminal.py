"""The progress line on a real terminal emulator: tmux, which rewraps lines when its window
narrows, as VTE, kitty and most others do. Its screen is read back with capture-pane."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from buses import wait_until
from conftest import Desktop

pytestmark = pytest.mark.skipif(
    not shutil.which("tmux"), reason="needs tmux (tools/test installs it)"
)


class Tmux:
    def __init__(self, directory: Path, env: dict[str, str], argv: list[str], width: int) -> None:
        self.socket = str(directory / "tmux")
        self.env = env
        command = " ".join([sys.executable, "-m", "cocainate", *argv])
        self.run("-f", "/dev/null", "new-session", "-d", "-x", str(width), "-y", "12", command)

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", self.socket, *args], env=self.env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def screen(self, history: bool = False) -> list[str]:
        """The rows shown (and, with ``history``, those scrolled off above them)."""
        extra = ["-S", "-100"] if history else []
        return self.run("capture-pane", "-p", *extra).rstrip("\n").split("\n")

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def tmux(tmp_path: Path, bus_env: Desktop) -> Iterator[object]:
    made: list[Tmux] = []

    def start(*argv: str, width: int = 120) -> Tmux:
        made.append(Tmux(tmp_path, bus_env.env, list(argv), width))
        return made[-1]

    yield start
    for t in made:
        t.close()


def drawn(t: Tmux, what: str) -> list[str]:
    return [row for row in t.screen(history=True) if what in row]


def test_no_fragment_is_left_after_the_terminal_narrows(tmux: object) -> None:
    t = tmux("-d", "1h")  # type: ignore[operator]
    wait_until(lambda: drawn(t, "q to stop"), 5, "the progress line")
    assert len(drawn(t, "elapsed")[0]) > 60  # wide: it rewraps at 40 columns
    t.run("resize-window", "-x", "40")
    time.sleep(1.5)  # the redraw at once (SIGWINCH), and the one a second later
    rows = drawn(t, "elapsed")
    assert len(rows) == 1 and len(rows[0]) < 40, t.screen(history=True)
    assert not [row for row in t.screen(history=True) if "q to stop" in row or "[...." in row]


def test_a_line_said_while_the_progress_line_shows_starts_on_its_own(
    tmux: object, tmp_path: Path
) -> None:
    name = "cc" + str(time.monotonic_ns())[-10:]
    program = tmp_path / name
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    t = tmux("-d", "1h", "--while-running", name, "--method", "screensaver")  # type: ignore[operator]
    wait_until(lambda: drawn(t, "q to stop"), 5, "the progress line")
    process = subprocess.Popen([str(program), "60"])
    try:
        wait_until(lambda: drawn(t, "cocainate: holding"), 10, "the holding line")
        for row in t.screen(history=True):
            assert not ("elapsed" in row and "holding (" in row), t.screen(history=True)
        assert [row for row in t.screen() if row.startswith("cocainate: holding (screensaver)")]
    finally:
        process.kill()
        process.wait()
