"""X11's MIT-SCREEN-SAVER extension (``ScreenSaverSuspend``), and DPMS where it exists.

For bare window managers (i3, Openbox...) where no D-Bus service listens. The server ends
the suspend when our connection closes, so the connection is held for the whole session,
and a killed cocainate leaves the screensaver as it was. The connection speaks the
protocol itself (:mod:`cocainate.bindings.x11`), so every call is bounded in time and the
server going away is a ``lost`` event, never Xlib's exit.

DPMS is different: disabling it is a server-wide setting that outlives the connection, so
it is restored at release from the state read at acquire. MIT-SCREEN-SAVER 1.1 suspends
the DPMS timers too, which covers the one path release cannot (SIGKILL).
"""

import os
from typing import TYPE_CHECKING, Any

from ..errors import MechanismError
from . import Blocks, Mechanism, Mode

if TYPE_CHECKING:
    from ..bindings.x11 import ScreenSaver


class X11ScreenSaver(Mechanism):
    name = "x11"
    registered = True
    title = "X11 MIT-SCREEN-SAVER"
    blocks = {Mode.DISPLAY: frozenset({Blocks.SCREEN_IDLE})}

    _saver: "ScreenSaver | None" = None

    @classmethod
    def inhibitors(cls, ask: "Any") -> "tuple[str, list[str]]":
        from ..bindings.listing import own_holds

        return own_holds(cls.name, "the X server lists no others")

    _dpms_was_enabled = False

    def _open(self) -> "ScreenSaver":
        name = os.environ.get("DISPLAY")
        if not name:
            raise MechanismError("DISPLAY is not set (not an X11 session)")
        from ..bindings.x11 import ScreenSaver, XConnection

        connection = XConnection(name)
        try:
            saver = ScreenSaver(connection)
            version = saver.saver_version()
        except BaseException:
            connection.close()
            raise
        if version is None or version < (1, 1):
            connection.close()
            found = "absent" if version is None else f"version {version[0]}.{version[1]}"
            raise MechanismError(f"the X server's MIT-SCREEN-SAVER is {found}; 1.1 is needed")
        return saver

    def probe(self) -> "str | None":
        try:
            self._open().x.close()
        except MechanismError as err:
            return str(err)
        return None

    def acquire(self, mode: "Mode", reason: str) -> None:
        saver = self._open()
        try:
            saver.suspend(True)
            if saver.dpms_enabled():
                saver.dpms_set(False)
                self._dpms_was_enabled = True
            saver.x.sync()
            if saver.x.errors:
                raise MechanismError(saver.x.errors[0])
        except BaseException:
            saver.x.close()  # the server ends the suspend with the connection
            raise
        self._saver = saver

    def fds(self) -> "tuple[int, ...]":
        return () if self._saver is None else (self._saver.x.fileno(),)

    def on_readable(self, fd: int) -> bool:
        """Drop what the server sends unasked (MappingNotify goes to every client); False
        once it has gone: the suspend went with it."""
        if self._saver is not None and self._saver.x.drain():
            return True
        self.problems.append(f"{self.name}: lost the connection to the X server")
        return False

    def release(self) -> None:
        saver, self._saver = self._saver, None
        if saver is None:
            return
        try:
            if self._dpms_was_enabled:
                saver.dpms_set(True)
            saver.suspend(False)  # the server handles both before it sees the close
        except MechanismError as err:
            self.problems.append(f"{self.name}: release failed: {err}")
        finally:
            self._dpms_was_enabled = False
            saver.x.close()

    def abandon(self) -> None:
        saver, self._saver = self._saver, None
        if saver is not None:
            saver.x.close()  # our copy only: the parent's connection, and its suspend, stay
