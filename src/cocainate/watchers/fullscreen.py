"""``Fullscreen``: met while the focused window is fullscreen.

- X11: the window manager names the focused window in the root window's
  ``_NET_ACTIVE_WINDOW`` and marks a fullscreen one with ``_NET_WM_STATE_FULLSCREEN`` in its
  ``_NET_WM_STATE`` (EWMH). Both are followed through PropertyNotify events, on a connection
  of our own whose every reply has a deadline (:mod:`cocainate.bindings.x11`).
- Wayland: a compositor that offers wlr-foreign-toplevel-management tells each window's
  state, activated and fullscreen among them (:mod:`.toplevels`).

Where neither can be had, the session says so at start.
"""

import os
from typing import TYPE_CHECKING

from ..errors import ConditionError, MechanismError
from . import ConnectionSource, Watcher

if TYPE_CHECKING:
    from ..bindings.x11 import XConnection
    from ..reactor import Source


def fullscreen_watcher() -> "Watcher":
    """The watcher for this desktop: Wayland's where a compositor runs, else X11's."""
    wayland, display = os.environ.get("WAYLAND_DISPLAY"), os.environ.get("DISPLAY")
    if wayland:
        from .toplevels import ToplevelWatcher

        return ToplevelWatcher(wayland)
    if display:
        return X11FullscreenWatcher(display)
    raise ConditionError(
        "cannot tell whether a window is fullscreen: neither WAYLAND_DISPLAY nor DISPLAY is set"
    )


class X11FullscreenWatcher(Watcher):
    def __init__(self, display: str) -> None:
        super().__init__()
        self.display = display
        self._x: XConnection | None = None
        self._active = 0
        self.detail = "no window is fullscreen"

    def open(self) -> "list[Source]":
        from ..bindings.x11 import PROPERTY_CHANGE_MASK, XConnection

        try:
            self._x = x = XConnection(self.display)
            if not x.root:
                raise MechanismError(f"the X server at {self.display} names no screen")
            self._atoms = {
                name: x.intern_atom(name)
                for name in ("_NET_ACTIVE_WINDOW", "_NET_WM_STATE", "_NET_WM_STATE_FULLSCREEN")
            }
            x.select_events(x.root, PROPERTY_CHANGE_MASK)
            self._follow_focus()
        except MechanismError as err:
            self.close()
            raise ConditionError(f"cannot follow fullscreen windows on X11: {err}") from err
        return [ConnectionSource(lambda: self._x.fileno() if self._x else None, self.readable)]

    def _follow_focus(self) -> None:
        """Read which window is focused; hear that one's state changes, and its end, from
        now on. The root window named as focused (some window managers do, for the
        desktop) is no window: its events are the root's own, never changed here."""
        x = self._x
        assert x is not None
        value = x.get_property(x.root, self._atoms["_NET_ACTIVE_WINDOW"], 1)
        active = value[0] if value and value[0] != x.root else 0
        if active != self._active:
            self._watch(self._active, False)
            self._watch(active, True)
            self._active = active
        self._read_state()
        if value is None:
            self.detail = "the window manager does not say which window is focused (no EWMH)"

    def _watch(self, window: int, on: bool) -> None:
        from ..bindings.x11 import PROPERTY_CHANGE_MASK, STRUCTURE_NOTIFY_MASK

        if window and self._x is not None:
            self._x.select_events(window, PROPERTY_CHANGE_MASK | STRUCTURE_NOTIFY_MASK if on else 0)

    def _read_state(self) -> None:
        from ..bindings.x11 import XError

        x = self._x
        assert x is not None
        state = None
        if self._active:
            try:
                state = x.get_property(self._active, self._atoms["_NET_WM_STATE"])
            except XError:  # the window went meanwhile (BadWindow): not fullscreen
                state = None
        self.met = state is not None and self._atoms["_NET_WM_STATE_FULLSCREEN"] in state
        self.detail = (
            f"window 0x{self._active:x} is fullscreen" if self.met else "no window is fullscreen"
        )

    def readable(self) -> bool:
        """Handle what the server sent; False once the server has gone."""
        from ..bindings.x11 import DESTROY_NOTIFY, PROPERTY_NOTIFY

        x = self._x
        if x is None:
            return False
        events = x.read_events()
        try:
            while events:
                focus = state = False
                for event in events:
                    kind = event[0] & 0x7F
                    if kind == DESTROY_NOTIFY:
                        # A window destroyed is no longer fullscreen, even while the window
                        # manager still names it as focused (openbox does, until the focus
                        # moves): forget it, and go on hearing the focus move.
                        if int.from_bytes(event[8:12], "little") == self._active:
                            self._active = 0
                            state = True
                        continue
                    if kind != PROPERTY_NOTIFY:
                        continue
                    window = int.from_bytes(event[4:8], "little")
                    atom = int.from_bytes(event[8:12], "little")
                    if window == x.root and atom == self._atoms["_NET_ACTIVE_WINDOW"]:
                        focus = True
                    elif window == self._active and atom == self._atoms["_NET_WM_STATE"]:
                        state = True
                if focus:
                    self._follow_focus()
                elif state:
                    self._read_state()
                # What came while those replies were awaited: queued, or still in the
                # buffer after a reply, where no wake-up would ever find it.
                events = x.read_events()
        except MechanismError as err:
            events = None
            self.detail = f"lost the X server at {self.display}: {err}"
        if events is None:
            self.met = False
            if not self.detail.startswith("lost"):
                self.detail = f"lost the X server at {self.display}"
            self.close()
            self.report(self.detail, True)
            return False
        return True

    def close(self) -> None:
        x, self._x = self._x, None
        if x is not None:
            x.close()
