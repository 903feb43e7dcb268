"""systemd-logind inhibitor locks on the system bus (``org.freedesktop.login1``).

The lock lasts while the file descriptor Inhibit returns is open: release closes it.
Display mode takes an ``idle`` lock: logind's idle action (a suspend after so long idle)
waits, while a suspend a person asks for still happens. System mode takes a ``sleep``
lock, as ``systemd-inhibit`` does, which blocks every suspend an unprivileged user asks for.

``logind-lid`` (``--lid``, system mode only, never tried unless asked for) takes a
``handle-lid-switch`` lock: logind then does nothing when the lid is closed. Where logind
ignores the lid anyway, or another program holds that lock already (a desktop that handles
the lid itself), the hold says so in its caveat.
"""

import os
from typing import TYPE_CHECKING, Any, Callable

from ..errors import MechanismError
from . import Blocks, Mode
from ._bus import BusInhibitor

if TYPE_CHECKING:
    from ..bindings.listing import Asker, Listing


class LogindInhibitor(BusInhibitor):
    name = "logind"
    title = "org.freedesktop.login1"
    blocks = {
        Mode.DISPLAY: frozenset({Blocks.SLEEP}),
        Mode.SYSTEM: frozenset({Blocks.SLEEP, Blocks.SUSPEND}),
    }
    bus = "system"
    service = "org.freedesktop.login1"
    paths = ("/org/freedesktop/login1",)
    interface = "org.freedesktop.login1.Manager"
    inhibit_signature = "ssss"
    reply_signature = "h"

    @classmethod
    def inhibitors(cls, ask: "Asker") -> "Listing":
        from ..bindings.listing import LISTED, held, mine, not_running

        try:
            (rows,) = ask.call(
                cls.bus, cls.service, cls.paths[0], cls.interface, "ListInhibitors", "a(ssssuu)"
            )
        except MechanismError as err:
            return not_running(err, cls.service)
        rows = [row for row in rows if cls.lists(str(row[0]))]
        lines = [
            f"{what} ({mode}) by {who}, pid {pid}: {why!r}{mine(who)}"
            for what, who, why, mode, _uid, pid in rows[: LISTED + 1]
        ]
        return held(lines, len(rows))

    @classmethod
    def lists(cls, what: str) -> bool:
        """Whether ``status`` lists a lock on ``what`` under this mechanism: the lid's go
        under logind-lid."""
        return what != LID

    def inhibit_args(self, mode: "Mode", reason: str) -> "tuple[Any, ...]":
        what = "idle" if mode is Mode.DISPLAY else "sleep"
        return (what, "cocainate", reason, "block")

    def take(self, value: "Any") -> "Any":
        fd: int = value.to_raw_fd()
        return fd

    def _prepare_release(self) -> None:
        pass  # closing the fd is the release: no call to build

    def _forget(self) -> None:
        self._close_lock()
        super()._forget()

    def _close_lock(self) -> None:
        fd, self._cookie = self._cookie, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError as err:
                self.problems.append(f"{self.name}: closing the lock failed: {err}")

    def _undo(self, cookie: "Any", path: str, owner: str) -> None:
        os.close(cookie)  # a lock granted late, not wanted: closing its fd gives it back

    def start_release(self) -> "Callable[[], None] | None":
        self.release()  # no call to wait for: closing the fd is the release
        return None

    def release(self) -> None:
        self._wanted = None
        self.resources.cancel(self.bus, self)
        self.resources.unsubscribe(self.bus, self.service, self._owner_changed)
        self._forget()  # closing the fd is the release; a fork's copy holds nothing alone


LID = "handle-lid-switch"


class LogindLidInhibitor(LogindInhibitor):
    name = "logind-lid"
    title = "org.freedesktop.login1 (handle-lid-switch)"
    blocks = {Mode.SYSTEM: frozenset({Blocks.LID})}

    @classmethod
    def lists(cls, what: str) -> bool:
        return LID in what.split(":")

    def inhibit_args(self, mode: "Mode", reason: str) -> "tuple[Any, ...]":
        return (LID, "cocainate", reason, "block")

    def confirm(self) -> None:
        """Say where the lock changes nothing: logind ignores the lid here, or another
        program holds the lid already (a desktop that handles it itself). Asking is
        bounded; what cannot be asked is not said."""
        self.caveat = None
        try:
            self.caveat = self._lid_caveat()
        except MechanismError:
            pass

    def _lid_caveat(self) -> "str | None":
        from jeepney import DBusAddress

        from ..bindings.buses import variant
        from ..bindings.dbus import call

        connection = self.resources.bus(self.bus)
        manager = DBusAddress(self.paths[0], self.service, self.interface)
        (rows,) = call(connection, manager, "ListInhibitors")
        others = [
            f"{who} ({why})"
            for what, who, why, mode, _uid, _pid in rows
            if self.lists(str(what)) and mode == "block" and who != "cocainate"
        ]
        if others:
            return (
                f"{', '.join(others)} holds the lid too: what it does when the lid closes "
                "(GNOME suspends on its own) decides"
            )
        props = DBusAddress(self.paths[0], self.service, "org.freedesktop.DBus.Properties")
        try:
            (value,) = call(connection, props, "Get", "ss", (self.interface, "HandleLidSwitch"))
        except MechanismError:
            return None  # an older logind, or a stand-in that does not say
        if variant(value) == "ignore":
            return "logind ignores the lid here (HandleLidSwitch=ignore): nothing to keep"
        return None
