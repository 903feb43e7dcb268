"""systemd-logind inhibitor locks on the system bus (``org.freedesktop.login1``).

The lock lasts while the file descriptor Inhibit returns is open: release closes it.
"""

from __future__ import annotations

import os
from typing import Any

from .._dbus import BusInhibitor
from ..errors import MechanismError
from . import Blocks, Mode

_SLEEP = frozenset({Blocks.SLEEP})


class LogindInhibitor(BusInhibitor):
    name = "logind"
    title = "org.freedesktop.login1"
    blocks = {Mode.DISPLAY: _SLEEP, Mode.SYSTEM: _SLEEP}
    bus = "system"
    service = "org.freedesktop.login1"
    paths = ("/org/freedesktop/login1",)
    interface = "org.freedesktop.login1.Manager"
    inhibit_signature = "ssss"

    def inhibit_args(self, mode: Mode, reason: str) -> tuple[Any, ...]:
        what = "idle:sleep" if mode is Mode.DISPLAY else "sleep"
        return (what, "cocainate", reason, "block")

    def take(self, reply: tuple[Any, ...]) -> Any:
        from jeepney import FileDescriptor

        if len(reply) != 1 or not isinstance(reply[0], FileDescriptor):
            raise MechanismError(f"logind answered Inhibit with a malformed reply {reply!r}")
        fd: int = reply[0].to_raw_fd()
        return fd

    def _drop(self) -> None:
        self.release_fd()
        super()._drop()

    def release_fd(self) -> None:
        if self._cookie is not None:
            try:
                os.close(self._cookie)
            except OSError:
                pass
            self._cookie = None

    def release(self) -> None:
        self._wanted = None
        fd, self._cookie = self._cookie, None
        self._address = None
        if fd is not None:
            try:
                os.close(fd)
            except OSError as err:
                self.problems.append(f"{self.name}: closing the lock failed: {err}")
