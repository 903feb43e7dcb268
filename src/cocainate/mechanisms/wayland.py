"""Wayland's idle-inhibit protocol (``zwp_idle_inhibit_manager_v1``): sway, Hyprland, KDE,
wlroots compositors.

An inhibitor is tied to a surface and holds only while the compositor shows that surface,
so the mechanism maps the least it can: a 1x1 transparent toplevel titled "cocainate"
whose minimum and maximum size are both 1x1, which tiling compositors such as sway float
rather than tile. The compositor drops the inhibitor when our connection closes, so a
killed cocainate leaves nothing held. pywayland is an optional extra
(``pip install 'cocainate[wayland]'``); its wheel bundles libwayland and the protocols.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import MechanismError
from . import Blocks, Mechanism, Mode

_NEEDED = ("wl_compositor", "wl_shm", "xdg_wm_base", "zwp_idle_inhibit_manager_v1")


class WaylandIdleInhibitor(Mechanism):
    name = "wayland"
    title = "Wayland zwp_idle_inhibit_manager_v1"
    blocks = {Mode.DISPLAY: frozenset({Blocks.SCREEN_IDLE})}

    _display: Any = None
    _objects: tuple[Any, ...] = ()
    _memfd: int | None = None

    def _connect(self) -> tuple[Any, dict[str, Any]]:
        name = os.environ.get("WAYLAND_DISPLAY")
        if not name:
            raise MechanismError("WAYLAND_DISPLAY is not set (not a Wayland session)")
        try:
            from pywayland.client import Display
            from pywayland.protocol.idle_inhibit_unstable_v1 import ZwpIdleInhibitManagerV1
            from pywayland.protocol.wayland import WlCompositor, WlShm
            from pywayland.protocol.xdg_shell import XdgWmBase
        except ImportError as err:
            raise MechanismError(
                "pywayland is not installed (pip install 'cocainate[wayland]')"
            ) from err
        from ..bindings.wayland import connect, roundtrip

        display = Display(connect(name))  # the Display owns the fd from here on
        display.connect()
        wanted = {c.name: c for c in (WlCompositor, WlShm, XdgWmBase, ZwpIdleInhibitManagerV1)}
        bound: dict[str, Any] = {}

        def on_global(registry: Any, global_name: int, interface: str, version: int) -> None:
            cls = wanted.get(interface)
            if cls is not None and interface not in bound:
                bound[interface] = registry.bind(global_name, cls, min(version, cls.version))

        registry = display.get_registry()
        registry.dispatcher["global"] = on_global
        try:
            roundtrip(display)
        except BaseException:
            display.disconnect()
            raise
        missing = [i for i in _NEEDED if i not in bound]
        if missing:
            display.disconnect()
            raise MechanismError(f"the compositor does not offer {', '.join(missing)}")
        return display, bound

    def probe(self) -> str | None:
        try:
            display, _ = self._connect()
        except MechanismError as err:
            return str(err)
        display.disconnect()
        return None

    def acquire(self, mode: Mode, reason: str) -> None:
        display, bound = self._connect()  # says why not: no WAYLAND_DISPLAY, no pywayland...
        try:
            self._map(display, bound)
        except BaseException:
            self._display = display
            self.abandon()  # closing the connection drops whatever was made on it
            raise

    def _map(self, display: Any, bound: dict[str, Any]) -> None:
        from pywayland.protocol.wayland import WlShm

        from ..bindings.wayland import roundtrip

        wm_base = bound["xdg_wm_base"]
        wm_base.dispatcher["ping"] = lambda base, serial: base.pong(serial)
        surface = bound["wl_compositor"].create_surface()
        xdg_surface = wm_base.get_xdg_surface(surface)
        xdg_surface.dispatcher["configure"] = lambda xs, serial: xs.ack_configure(serial)
        toplevel = xdg_surface.get_toplevel()
        toplevel.set_title("cocainate")
        toplevel.set_app_id("cocainate")
        toplevel.set_min_size(1, 1)
        toplevel.set_max_size(1, 1)
        surface.commit()
        roundtrip(display)  # the first configure, acknowledged, before a buffer may attach
        self._memfd = memfd = os.memfd_create("cocainate", os.MFD_CLOEXEC)
        os.ftruncate(memfd, 4)  # one transparent ARGB pixel
        pool = bound["wl_shm"].create_pool(memfd, 4)
        buffer = pool.create_buffer(0, 1, 1, 4, WlShm.format.argb8888.value)
        surface.attach(buffer, 0, 0)
        surface.commit()
        inhibitor = bound["zwp_idle_inhibit_manager_v1"].create_inhibitor(surface)
        surface.commit()
        roundtrip(display)
        # Destroyed in this order at release: the inhibitor first, the surface last.
        self._objects = (inhibitor, toplevel, xdg_surface, buffer, pool, surface)
        self._display = display

    def fds(self) -> tuple[int, ...]:
        return () if self._display is None else (self._display.get_fd(),)

    def on_readable(self, fd: int) -> bool:
        """Answer the compositor's pings and configures, so it never thinks us hung."""
        from ..bindings.wayland import pump

        if self._display is not None and pump(self._display):
            return True
        self.problems.append(f"{self.name}: lost the connection to the compositor")
        return False

    def release(self) -> None:
        display, self._display = self._display, None
        objects, self._objects = self._objects, ()
        memfd, self._memfd = self._memfd, None
        try:
            if display is not None:
                for obj in objects:
                    obj.destroy()
                display.flush()  # never blocks; what it cannot send, the close undoes anyway
                display.disconnect()
        except Exception as err:  # a dead connection; closing it dropped the inhibitor
            self.problems.append(f"{self.name}: release failed: {err}")
        finally:
            if memfd is not None:
                os.close(memfd)

    def abandon(self) -> None:
        """Close our connection without a word: destroying the objects would send requests."""
        display, self._display = self._display, None
        self._objects = ()
        memfd, self._memfd = self._memfd, None
        if display is not None:
            display.disconnect()  # frees and closes; libwayland sends nothing here
        if memfd is not None:
            os.close(memfd)
