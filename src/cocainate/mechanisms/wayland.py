"""Wayland's idle-inhibit protocol (``zwp_idle_inhibit_manager_v1``): sway, Hyprland, KDE,
wlroots compositors.

An inhibitor is tied to a surface and holds only while the compositor shows that surface,
so the mechanism maps the least it can:

- where the compositor offers wlr-layer-shell (sway, KWin, Hyprland, river, labwc...): a
  1x1 transparent layer surface in the background layer, anchored to a corner, with no
  keyboard interactivity and an empty input region. The background layer, not the
  overlay: sway up to 1.8 and Hyprland refuse a fullscreen window direct scanout while any
  overlay-layer surface is mapped, and the compositors tested (sway, KWin) honour an
  inhibitor on a layer surface whatever covers it. It takes no focus, receives no input,
  shows nothing, and belongs to no workspace, so switching workspaces does not hide it.
  If its output goes away (unplugged, turned off) the compositor closes it; it is made
  again on an output that is there, or as soon as one appears, and the closed one is kept
  until then;
- elsewhere: a 1x1 transparent toplevel titled "cocainate" whose minimum and maximum size
  are both 1x1, which tiling compositors float rather than tile. It may take the focus
  when it appears, and holds only while its workspace is shown.

The compositor drops the inhibitor when our connection closes, so a killed cocainate
leaves nothing held. pywayland is an optional extra (``pip install 'cocainate[wayland]'``);
its wheel bundles libwayland and the protocols (layer-shell, which it lacks, is declared in
:mod:`..bindings.layer_shell`).
"""

import os
from typing import Any

from ..errors import MechanismError
from . import Blocks, Mechanism, Mode

_NEEDED = ("wl_compositor", "wl_shm", "zwp_idle_inhibit_manager_v1")
LAYER_SHELL = "zwlr_layer_shell_v1"
TITLE = "Wayland zwp_idle_inhibit_manager_v1"
ON_LAYER = f"{TITLE}, on a layer-shell surface (no focus, no input, every workspace)"
ON_TOPLEVEL = f"{TITLE}, on a 1x1 window (the compositor offers no layer shell)"
FOCUS_CAVEAT = (
    "the compositor offers no layer shell, so the inhibit is on a 1x1 window of cocainate's, "
    "which may take the keyboard focus from your application while it holds (cage does)"
)


class WaylandIdleInhibitor(Mechanism):
    name = "wayland"
    registered = True
    title = TITLE
    blocks = {Mode.DISPLAY: frozenset({Blocks.SCREEN_IDLE})}

    _display: "Any" = None

    @classmethod
    def inhibitors(cls, ask: "Any") -> "tuple[str, list[str]]":
        from ..bindings.listing import own_holds

        return own_holds(cls.name, "the compositor lists no others")

    _memfd: "int | None" = None
    _bound: "dict[str, Any]"
    _outputs: "set[int]"  # the wl_output globals offered now
    _tried: "frozenset[int] | None" = None  # the outputs when a closed surface was last remade
    _closed: bool = False

    def __init__(self, resources: "Any") -> None:
        super().__init__(resources)
        self._objects: list[Any] = []  # what was made on the connection, in that order
        self._outputs = set()

    def _connect(self) -> "tuple[Any, dict[str, Any]]":
        name = os.environ.get("WAYLAND_DISPLAY")
        if not name:
            raise MechanismError("WAYLAND_DISPLAY is not set (not a Wayland session)")
        try:
            from pywayland.client import Display
            from pywayland.protocol.idle_inhibit_unstable_v1 import ZwpIdleInhibitManagerV1
            from pywayland.protocol.wayland import WlCompositor, WlShm
            from pywayland.protocol.xdg_shell import XdgWmBase

            from ..bindings.layer_shell import ZwlrLayerShellV1
        except ImportError as err:
            raise MechanismError(
                "pywayland is not installed (pip install 'cocainate[wayland]')"
            ) from err
        from ..bindings.wayland import connect, roundtrip

        display = Display(connect(name))  # the Display owns the fd from here on
        display.connect()
        wanted = {
            c.name: c
            for c in (WlCompositor, WlShm, XdgWmBase, ZwpIdleInhibitManagerV1, ZwlrLayerShellV1)
        }
        bound: dict[str, Any] = {}
        self._outputs = outputs = set()

        def on_global(registry: "Any", global_name: int, interface: str, version: int) -> None:
            if interface == "wl_output":
                outputs.add(global_name)
            cls = wanted.get(interface)
            if cls is not None and interface not in bound:
                bound[interface] = registry.bind(global_name, cls, min(version, cls.version))

        registry = display.get_registry()
        registry.dispatcher["global"] = on_global
        registry.dispatcher["global_remove"] = lambda registry, name: outputs.discard(name)
        try:
            roundtrip(display)
        except BaseException:
            display.disconnect()
            raise
        missing = [i for i in _NEEDED if i not in bound]
        if LAYER_SHELL not in bound and "xdg_wm_base" not in bound:
            missing.append(f"{LAYER_SHELL} or xdg_wm_base")
        if missing:
            display.disconnect()
            raise MechanismError(f"the compositor does not offer {', '.join(missing)}")
        return display, bound

    def probe(self) -> "str | None":
        try:
            display, bound = self._connect()
        except MechanismError as err:
            return str(err)
        display.disconnect()
        self.title = ON_LAYER if LAYER_SHELL in bound else ON_TOPLEVEL
        return None

    def acquire(self, mode: "Mode", reason: str) -> None:
        display, bound = self._connect()  # says why not: no WAYLAND_DISPLAY, no pywayland...
        try:
            self._map(display, bound)
        except BaseException:
            self._display = display
            self.abandon()  # closing the connection drops whatever was made on it
            raise

    def _map(self, display: "Any", bound: "dict[str, Any]") -> None:
        self._bound = bound
        if LAYER_SHELL in bound:
            self._objects = self._layer_surface(display, bound, wait=True)
            self.title = ON_LAYER
        else:
            self._objects = self._toplevel(display, bound)
            self.title = ON_TOPLEVEL
            self.caveat = FOCUS_CAVEAT
        self._display = display

    def _layer_surface(self, display: "Any", bound: "dict[str, Any]", wait: bool) -> "list[Any]":
        """A 1x1 transparent background surface that takes no keyboard focus and no input,
        with the inhibitor on it; its objects in the order made (released in reverse). The
        pixel and the inhibitor come when the compositor first configures it: with
        ``wait``, within one bounded round trip; without (a remake, in the middle of
        holding), in a later dispatch, so that nothing here waits for the compositor."""
        from ..bindings import layer_shell as ls

        compositor = bound["wl_compositor"]
        surface = compositor.create_surface()
        region = compositor.create_region()  # empty: every pointer and touch passes through
        surface.set_input_region(region)
        layer = bound[LAYER_SHELL].get_layer_surface(
            surface, None, ls.LAYER_BACKGROUND, "cocainate"
        )
        objects = [surface, region, layer]

        def on_configure(layer: "Any", serial: int, width: int, height: int) -> None:
            layer.ack_configure(serial)
            if len(objects) == 3:  # the first configure: now a buffer may be attached
                objects.extend(self._inhibit(bound, surface))

        layer.dispatcher["configure"] = on_configure
        layer.dispatcher["closed"] = lambda layer: self._on_closed()
        layer.set_size(1, 1)
        layer.set_anchor(ls.ANCHOR_TOP | ls.ANCHOR_LEFT)
        layer.set_exclusive_zone(-1)  # not moved by others' zones, and moves nobody
        layer.set_keyboard_interactivity(ls.KEYBOARD_INTERACTIVITY_NONE)
        surface.commit()
        if wait:
            from ..bindings.wayland import roundtrip

            roundtrip(display)  # the configure, answered by on_configure
            roundtrip(display)  # and what on_configure sent, handled
            if len(objects) == 3:
                raise MechanismError("the compositor did not configure the layer surface")
        else:
            display.flush()  # never blocks: what cannot be sent now goes with the next
        return objects

    def _inhibit(self, bound: "dict[str, Any]", surface: "Any") -> "list[Any]":
        """Give a configured ``surface`` one transparent pixel and put the inhibitor on it:
        [pool, buffer, inhibitor]."""
        from pywayland.protocol.wayland import WlShm

        if self._memfd is None:
            self._memfd = os.memfd_create("cocainate", os.MFD_CLOEXEC)
            os.ftruncate(self._memfd, 4)
        pool = bound["wl_shm"].create_pool(self._memfd, 4)  # one ARGB pixel, transparent
        buffer = pool.create_buffer(0, 1, 1, 4, WlShm.format.argb8888.value)
        surface.attach(buffer, 0, 0)
        surface.commit()
        inhibitor = bound["zwp_idle_inhibit_manager_v1"].create_inhibitor(surface)
        surface.commit()
        return [pool, buffer, inhibitor]

    def _on_closed(self) -> None:
        self._closed = True  # remade after this dispatch (see on_readable)

    def _remake(self) -> None:
        """The layer surface was closed (its output went away): make one anew on an output
        that is there, once per change of the outputs; keep the closed one until then (its
        inhibitor may still count, and there is nothing to show it on). Sends requests
        without waiting for an answer."""
        outputs = frozenset(self._outputs)
        if not outputs or outputs == self._tried:
            return
        self._tried = outputs
        old = self._objects
        self._closed = False
        try:
            self._objects = self._layer_surface(self._display, self._bound, wait=False)
            for obj in reversed(old):
                obj.destroy()
            self._display.flush()
        except Exception as err:  # a broken connection: the next read says it is gone
            self.problems.append(f"{self.name}: could not make the surface again: {err}")

    def _toplevel(self, display: "Any", bound: "dict[str, Any]") -> "list[Any]":
        """The fallback: a 1x1 transparent window, floated by tiling compositors, with the
        inhibitor on it; its objects in the order made (released in reverse)."""
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
        objects = [surface, xdg_surface, toplevel, *self._inhibit(bound, surface)]
        roundtrip(display)
        return objects

    def fds(self) -> "tuple[int, ...]":
        return () if self._display is None else (self._display.get_fd(),)

    def on_readable(self, fd: int) -> bool:
        """Answer the compositor's pings and configures, so it never thinks us hung."""
        from ..bindings.wayland import pump

        if self._display is not None and pump(self._display):
            if self._closed:  # stays so until an output is there to make it again on
                self._remake()
            return True
        self.problems.append(f"{self.name}: lost the connection to the compositor")
        return False

    def release(self) -> None:
        display, self._display = self._display, None
        objects, self._objects = self._objects, []
        memfd, self._memfd = self._memfd, None
        try:
            if display is not None:
                for obj in reversed(objects):  # the inhibitor first, the surface last
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
        self._objects = []
        memfd, self._memfd = self._memfd, None
        if display is not None:
            display.disconnect()  # frees and closes; libwayland sends nothing here
        if memfd is not None:
            os.close(memfd)
