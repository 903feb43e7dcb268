"""``cocainate -- COMMAND``: hold while a command runs, as systemd-inhibit and caffeinate do.

Signals that reach cocainate (SIGINT, SIGTERM, SIGHUP, SIGQUIT; not those ignored when it
started, which the command inherits ignored) are passed on to the command, which decides
when to end; the session ends when it exits. Ctrl-C at a terminal
reaches the command directly when it shares the terminal's foreground group, so it is not
passed on a second time. If the session ends first (``-d``, ``--until``, ``q``), the command
gets SIGTERM, then SIGKILL after a grace period. cocainate exits with the command's status,
128+N if signal N killed it.
"""

import os
import signal
import subprocess
from collections.abc import Sequence
from typing import Any

from ..errors import CocainateError

GRACE_SECONDS = 5.0
FORWARDED = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
    if hasattr(signal, name)
)


class CommandError(CocainateError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Command:
    def __init__(self, argv: "Sequence[str]") -> None:
        try:
            self.process = subprocess.Popen(list(argv))
        except FileNotFoundError:
            raise CommandError(f"cannot run {argv[0]!r}: command not found", 127) from None
        except PermissionError:
            raise CommandError(f"cannot run {argv[0]!r}: permission denied", 126) from None
        except OSError as err:
            raise CommandError(f"cannot run {argv[0]!r}: {err.strerror}", 126) from None
        self._previous: dict[int, Any] = {}
        for signum in FORWARDED:
            if signal.getsignal(signum) != signal.SIG_IGN:  # ignored stays ignored (nohup)
                self._previous[signum] = signal.signal(signum, self._forward)

    @property
    def pid(self) -> int:
        return self.process.pid

    def _forward(self, signum: int, frame: object) -> None:
        if signum == signal.SIGINT and self._shares_terminal():
            return  # the terminal sent it to the command as well
        try:
            self.process.send_signal(signum)
        except OSError:
            pass

    def _shares_terminal(self) -> bool:
        try:
            return os.tcgetpgrp(0) == os.getpgid(self.process.pid)
        except (OSError, AttributeError):
            return False

    def finish(self) -> int:
        """Wait for the command (ending it politely if it still runs); its exit status."""
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    self.process.kill()
            code = self.process.wait()
        finally:
            for signum, handler in self._previous.items():
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        return 128 - code if code < 0 else code
