"""The live progress line and the ``q`` key, for a person at a terminal.

Only used when stdout (for the line) and stdin (for the key) are terminals: otherwise the
CLI prints nothing live and never wakes to redraw.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.session import Session

BAR = 20


def progress_line(session: Session, elapsed: float, total: float | None, until: str = "") -> str:
    from ..duration import format_duration

    held = ", ".join(session.holding)
    left = session.remaining
    if total and left is not None:
        done = min(1.0, max(0.0, 1 - left / total))
        filled = int(done * BAR)
        bar = "#" * filled + "." * (BAR - filled)
        timing = f"{_clock(elapsed)} elapsed, {_clock(left)} left [{bar}] {int(done * 100):3d}%"
    else:
        timing = f"{format_duration(round(elapsed))} elapsed"
    return f"{timing}{' until ' + until if until else ''} | {held} | q to stop"


def _clock(seconds: float) -> str:
    whole = int(seconds + 0.5)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class Line:
    """One line redrawn in place."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.drawn = False

    def draw(self, text: str) -> None:
        try:
            self.stream.write("\r\x1b[2K" + text)
            self.stream.flush()
            self.drawn = True
        except (OSError, ValueError):
            pass

    def clear(self) -> None:
        if self.drawn:
            self.draw("")
            self.drawn = False


class Keys:
    """Read single keys from the terminal while a session runs: ``q`` stops it.

    The terminal is put in cbreak mode (no line buffering, no echo) and restored by
    :meth:`close`, which the CLI calls on every path out.
    """

    def __init__(self, session: Session) -> None:
        import termios
        import tty

        self._session = session
        self._fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd)
        attrs = termios.tcgetattr(self._fd)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(self._fd, termios.TCSANOW, attrs)

    def fileno(self) -> int:
        return self._fd

    def on_readable(self, fd: int) -> bool:
        try:
            keys = os.read(fd, 64)
        except OSError:
            return False
        if not keys:
            return False  # end of input: stop watching
        if b"q" in keys or b"Q" in keys:
            self._session.stop()
        return True

    def close(self) -> None:
        import termios

        try:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
        except (OSError, termios.error):
            pass


def interactive() -> bool:
    try:
        return sys.stdin.isatty() and sys.stdout.isatty() and os.name == "posix"
    except (AttributeError, ValueError):
        return False
