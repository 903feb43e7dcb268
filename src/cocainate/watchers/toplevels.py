"""``Fullscreen`` on Wayland: wlr-foreign-toplevel-management tells every window's state.

The compositor announces each window (``toplevel``), then its state (an array of which
``activated`` and ``fullscreen`` are two) followed by ``done``, again whenever it changes,
and ``closed`` when it goes. Met while the activated (focused) window is fullscreen. The
connection is ours, its socket in the session's reactor; the one round trip at start is
bounded (:mod:`cocainate.bindings.wayland`), and everything after reads without waiting.
"""

import struct
from typing import TYPE_CHECKING, Any

from ..errors import ConditionError, MechanismError
from . import ConnectionSource, Watcher

if TYPE_CHECKING:
    from ..reactor import Source

MANAGER = "zwlr_foreign_toplevel_manager_v1"


class ToplevelWatcher(Watcher):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self._display: Any = None
        # handle -> its state as of its last "done" (the protocol's atomic update), and
        # what has been said since, applied at the next "done"
        self._states: dict[Any, dict[str, Any]] = {}
        self._pending: dict[Any, dict[str, Any]] = {}
        self.detail = "no window is fullscreen"

    def open(self) -> "list[Source]":
        try:
            self._connect()
        except MechanismError as err:
            self.close()
            raise ConditionError(f"cannot follow fullscreen windows on Wayland: {err}") from err
        return [ConnectionSource(self._fileno, self.readable)]

    def _fileno(self) -> "int | None":
        return None if self._display is None else self._display.get_fd()

    def _connect(self) -> None:
        try:
            from pywayland.client import Display

            from ..bindings.foreign_toplevel import ZwlrForeignToplevelManagerV1
        except ImportError as err:
            raise MechanismError(
                "pywayland is not installed (pip install 'cocainate[wayland]')"
            ) from err
        from ..bindings.wayland import connect, roundtrip

        self._display = display = Display(connect(self.name))
        display.connect()
        found: list[Any] = []

        def on_global(registry: "Any", global_name: int, interface: str, version: int) -> None:
            if interface == MANAGER and not found:
                cls = ZwlrForeignToplevelManagerV1
                found.append(registry.bind(global_name, cls, min(version, cls.version)))

        registry = display.get_registry()
        registry.dispatcher["global"] = on_global
        roundtrip(display)
        if not found:
            raise MechanismError(
                f"the compositor does not offer {MANAGER} (sway, Hyprland and other wlroots "
                "compositors do; GNOME and KDE do not)"
            )
        self._manager = found[0]
        self._manager.dispatcher["toplevel"] = self._toplevel
        roundtrip(display)  # every window there is, with its state
        roundtrip(display)  # and what the windows announced in the first one said

    def _toplevel(self, manager: "Any", handle: "Any") -> None:
        handle.dispatcher["state"] = self._state
        handle.dispatcher["title"] = lambda h, title: self._pending.setdefault(h, {}).update(
            title=title
        )
        handle.dispatcher["done"] = self._done
        handle.dispatcher["closed"] = self._closed

    def _state(self, handle: "Any", state: bytes) -> None:
        from ..bindings.foreign_toplevel import STATE_ACTIVATED, STATE_FULLSCREEN

        values = struct.unpack(f"={len(state) // 4}I", state[: len(state) // 4 * 4])
        self._pending.setdefault(handle, {}).update(
            active=STATE_ACTIVATED in values, fullscreen=STATE_FULLSCREEN in values
        )

    def _done(self, handle: "Any") -> None:
        self._states.setdefault(handle, {}).update(self._pending.pop(handle, {}))
        self._update()

    def _closed(self, handle: "Any") -> None:
        self._states.pop(handle, None)
        self._pending.pop(handle, None)
        handle.destroy()
        self._update()

    def _update(self) -> None:
        full = [
            state.get("title", "")
            for state in self._states.values()
            if state.get("active") and state.get("fullscreen")
        ]
        self.met = bool(full)
        self.detail = (
            f"{full[0] or 'a window'} is fullscreen" if full else "no window is fullscreen"
        )

    def readable(self) -> bool:
        from ..bindings.wayland import pump

        if self._display is not None and pump(self._display):
            return True
        self.met = False
        self.detail = f"lost the Wayland compositor at {self.name}"
        self.close()
        self.report(self.detail, True)
        return False

    def close(self) -> None:
        display, self._display = self._display, None
        self._states.clear()
        self._pending.clear()
        if display is not None:
            display.disconnect()
