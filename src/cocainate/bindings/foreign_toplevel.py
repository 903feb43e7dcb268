"""wlroots' foreign-toplevel-management protocol (``zwlr_foreign_toplevel_manager_v1``,
version 2) for pywayland, which does not bundle it: declared by hand through pywayland's
protocol core, requests and events in their wire order (an opcode is its position).
Offered by sway, Hyprland, river, labwc, Wayfire and other wlroots compositors.

cocainate only listens: each window's ``state`` (activated, fullscreen...), ``done`` and
``closed``. Object arguments of events it does not listen to (the outputs a window enters
and leaves) are declared without an interface, so pywayland passes them over instead of
looking for proxies of globals we never bound.
"""

from typing import Any

from pywayland.protocol.wayland import WlSeat, WlSurface
from pywayland.protocol_core import Argument, ArgumentType, Interface, Proxy, Resource

STATE_MAXIMIZED, STATE_MINIMIZED, STATE_ACTIVATED, STATE_FULLSCREEN = 0, 1, 2, 3


class ZwlrForeignToplevelManagerV1(Interface):
    name = "zwlr_foreign_toplevel_manager_v1"
    version = 2


class ZwlrForeignToplevelHandleV1(Interface):
    name = "zwlr_foreign_toplevel_handle_v1"
    version = 2


class ZwlrForeignToplevelManagerV1Proxy(Proxy):
    interface = ZwlrForeignToplevelManagerV1

    @ZwlrForeignToplevelManagerV1.request()
    def stop(self) -> None:
        self._marshal(0)


class ZwlrForeignToplevelManagerV1Resource(Resource):
    interface = ZwlrForeignToplevelManagerV1

    @ZwlrForeignToplevelManagerV1.event(
        Argument(ArgumentType.NewId, interface=ZwlrForeignToplevelHandleV1)
    )
    def toplevel(self, toplevel: "Any") -> None:
        self._post_event(0, toplevel)

    @ZwlrForeignToplevelManagerV1.event()
    def finished(self) -> None:
        self._post_event(1)


class ZwlrForeignToplevelHandleV1Proxy(Proxy):
    interface = ZwlrForeignToplevelHandleV1

    @ZwlrForeignToplevelHandleV1.request()
    def set_maximized(self) -> None:
        self._marshal(0)

    @ZwlrForeignToplevelHandleV1.request()
    def unset_maximized(self) -> None:
        self._marshal(1)

    @ZwlrForeignToplevelHandleV1.request()
    def set_minimized(self) -> None:
        self._marshal(2)

    @ZwlrForeignToplevelHandleV1.request()
    def unset_minimized(self) -> None:
        self._marshal(3)

    @ZwlrForeignToplevelHandleV1.request(Argument(ArgumentType.Object, interface=WlSeat))
    def activate(self, seat: "Any") -> None:
        self._marshal(4, seat)

    @ZwlrForeignToplevelHandleV1.request()
    def close(self) -> None:
        self._marshal(5)

    @ZwlrForeignToplevelHandleV1.request(
        Argument(ArgumentType.Object, interface=WlSurface),
        Argument(ArgumentType.Int),
        Argument(ArgumentType.Int),
        Argument(ArgumentType.Int),
        Argument(ArgumentType.Int),
    )
    def set_rectangle(self, surface: "Any", x: int, y: int, width: int, height: int) -> None:
        self._marshal(6, surface, x, y, width, height)

    @ZwlrForeignToplevelHandleV1.request()
    def destroy(self) -> None:
        self._marshal(7)
        self._destroy()


class ZwlrForeignToplevelHandleV1Resource(Resource):
    interface = ZwlrForeignToplevelHandleV1

    @ZwlrForeignToplevelHandleV1.event(Argument(ArgumentType.String))
    def title(self, title: str) -> None:
        self._post_event(0, title)

    @ZwlrForeignToplevelHandleV1.event(Argument(ArgumentType.String))
    def app_id(self, app_id: str) -> None:
        self._post_event(1, app_id)

    @ZwlrForeignToplevelHandleV1.event(Argument(ArgumentType.Object))
    def output_enter(self, output: "Any") -> None:
        self._post_event(2, output)

    @ZwlrForeignToplevelHandleV1.event(Argument(ArgumentType.Object))
    def output_leave(self, output: "Any") -> None:
        self._post_event(3, output)

    @ZwlrForeignToplevelHandleV1.event(Argument(ArgumentType.Array))
    def state(self, state: bytes) -> None:
        self._post_event(4, state)

    @ZwlrForeignToplevelHandleV1.event()
    def done(self) -> None:
        self._post_event(5)

    @ZwlrForeignToplevelHandleV1.event()
    def closed(self) -> None:
        self._post_event(6)


for _interface, _proxy, _resource in (
    (
        ZwlrForeignToplevelManagerV1,
        ZwlrForeignToplevelManagerV1Proxy,
        ZwlrForeignToplevelManagerV1Resource,
    ),
    (
        ZwlrForeignToplevelHandleV1,
        ZwlrForeignToplevelHandleV1Proxy,
        ZwlrForeignToplevelHandleV1Resource,
    ),
):
    _interface._gen_c()
    _interface.proxy_class = _proxy
    _interface.resource_class = _resource
