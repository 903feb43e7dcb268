"""The live progress line and the ``q`` key, for a person at a terminal.

Only used when stdout (for the line) and stdin (for the key) are terminals: otherwise the
CLI prints nothing live and never wakes to redraw.
"""

import os
import sys
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ..core.session import Session

BAR = 20


def progress_line(
    session: "Session", elapsed: float, total: "float | None", until: str = "", width: int = 80
) -> str:
    """The progress line, shortened to fit ``width`` columns (never wrapped): first the
    mechanisms become a count, then the bar goes, then the rest is cut."""
    from ..duration import format_duration

    names = session.holding
    held = [", ".join(names), f"{len(names)} held"]
    if session.state == "waiting":  # with conditions, holding nothing for now
        held = [f"waiting: {session.conditions_now}", "waiting"]
    left = session.remaining
    if total and left is not None:
        done = min(1.0, max(0.0, 1 - left / total))
        filled = int(done * BAR)
        bar = "#" * filled + "." * (BAR - filled)
        clocks = f"{_clock(elapsed)} elapsed, {_clock(left)} left"
        timings = [f"{clocks} [{bar}] {int(done * 100):3d}%", f"{clocks} {int(done * 100)}%"]
    else:
        timings = [f"{format_duration(round(elapsed))} elapsed"]
    until_text = f" until {until}" if until else ""
    room = max(1, width - 1)  # the last column would make some terminals wrap
    text = ""
    for timing in timings:
        for holding in held:
            text = f"{timing}{until_text} | {holding} | q to stop"
            if len(text) <= room:
                return text
    return text[: room - 1] + "…" if room > 1 else text[:room]


def _clock(seconds: float) -> str:
    whole = int(seconds + 0.5)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def columns(fd: int) -> int:
    """The terminal's width now (80 where it cannot say)."""
    try:
        return os.get_terminal_size(fd).columns or 80
    except OSError:
        return 80


class Line:
    """One line redrawn in place, the cursor left at its start, so that a terminal that
    narrows and rewraps the old line (VTE, kitty, tmux) puts the rest of it on the rows
    below the cursor: each draw erases the line and as many rows below as the old text
    could take at the width of the moment (the cursor saved and put back, so nothing
    scrolls), and so does :meth:`clear`, which :func:`cocainate.cli.say.out` calls before
    any other line is written."""

    def __init__(self, stream: "Any", width: "Callable[[], int]") -> None:
        self.stream = stream
        self._width = width
        self._shown = 0  # characters on the line now
        self.drawn = False

    def draw(self, text: str) -> None:
        self._write(f"{self._erase()}{text}\r")
        self._shown, self.drawn = len(text), True

    def clear(self) -> None:
        if self.drawn:
            self._write(self._erase())
            self._shown, self.drawn = 0, False

    def _erase(self) -> str:
        below = -(-self._shown // max(1, self._width())) - 1  # rows of the old text, less one
        # save the cursor; (down one row, erase it) for each; put the cursor back
        rows = "\x1b7" + "\x1b[B\x1b[2K" * below + "\x1b8" if below > 0 else ""
        return f"\r{rows}\x1b[K"

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass


class TerminalSignals:
    """SIGWINCH (a resize) and SIGCONT (back from Ctrl-Z) through the session's reactor:
    the handlers only write the signal's number to a pipe the session watches, and
    :meth:`on_readable` calls ``on_signal(signum)`` from the session's wait, where drawing
    and setting the terminal's mode are safe. :meth:`close` puts the handlers back."""

    def __init__(self, on_signal: "Any") -> None:
        import signal

        self._on_signal = on_signal
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._previous: dict[int, Any] = {}
        for name in ("SIGWINCH", "SIGCONT"):
            signum = getattr(signal, name, None)
            if signum is not None:
                self._previous[signum] = signal.signal(signum, self._handler)

    def _handler(self, signum: int, frame: object) -> None:
        try:
            os.write(self._write, bytes([signum]))
        except OSError:
            pass  # full: a redraw is coming anyway

    def fileno(self) -> int:
        return self._read

    def on_readable(self, fd: int) -> bool:
        try:
            got = os.read(fd, 64)
        except OSError:
            return True
        for signum in dict.fromkeys(got):
            self._on_signal(signum)
        return True

    def close(self) -> None:
        import signal

        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._previous.clear()
        os.close(self._read)
        os.close(self._write)


class Keys:
    """Read single keys from the terminal while a session runs: ``q`` stops it.

    The terminal is put in cbreak mode (no line buffering, no echo) and restored by
    :meth:`close`, which the CLI calls on every path out.
    """

    def __init__(self, session: "Session") -> None:
        import termios

        self._session = session
        self._fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(self._fd)
        self.apply()

    def apply(self) -> None:
        """Single keys, no echo: at start, and again after Ctrl-Z and fg (the shell puts the
        terminal back to its own modes while we are stopped)."""
        import termios
        import tty

        try:
            tty.setcbreak(self._fd)
            attrs = termios.tcgetattr(self._fd)
            attrs[3] &= ~termios.ECHO
            termios.tcsetattr(self._fd, termios.TCSANOW, attrs)
        except (OSError, termios.error):
            pass

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
