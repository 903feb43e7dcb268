"""wlroots' layer-shell protocol (``zwlr_layer_shell_v1``, version 1) for pywayland, which
does not bundle it: the two interfaces, declared by hand through pywayland's protocol
core, with the requests and events of version 1 in their wire order (a request's opcode
is its position). Offered by sway, KDE's KWin, Hyprland, river, labwc and other wlroots
compositors; not by GNOME's mutter.

Only what cocainate needs is typed out fully; the rest is declared so that the opcodes
after it are right.
"""

from typing import Any

from pywayland.protocol.wayland import WlOutput, WlSurface
from pywayland.protocol.xdg_shell import XdgPopup
from pywayland.protocol_core import Argument, ArgumentType, Interface, Proxy, Resource

LAYER_BACKGROUND, LAYER_BOTTOM, LAYER_TOP, LAYER_OVERLAY = 0, 1, 2, 3
ANCHOR_TOP, ANCHOR_BOTTOM, ANCHOR_LEFT, ANCHOR_RIGHT = 1, 2, 4, 8
KEYBOARD_INTERACTIVITY_NONE = 0


class ZwlrLayerShellV1(Interface):
    name = "zwlr_layer_shell_v1"
    version = 1


class ZwlrLayerSurfaceV1(Interface):
    name = "zwlr_layer_surface_v1"
    version = 1


class ZwlrLayerShellV1Proxy(Proxy):
    interface = ZwlrLayerShellV1

    @ZwlrLayerShellV1.request(
        Argument(ArgumentType.NewId, interface=ZwlrLayerSurfaceV1),
        Argument(ArgumentType.Object, interface=WlSurface),
        Argument(ArgumentType.Object, interface=WlOutput, nullable=True),
        Argument(ArgumentType.Uint),
        Argument(ArgumentType.String),
    )
    def get_layer_surface(self, surface: "Any", output: "Any", layer: int, namespace: str) -> "Any":
        return self._marshal_constructor(0, ZwlrLayerSurfaceV1, surface, output, layer, namespace)


class ZwlrLayerSurfaceV1Proxy(Proxy):
    interface = ZwlrLayerSurfaceV1

    @ZwlrLayerSurfaceV1.request(Argument(ArgumentType.Uint), Argument(ArgumentType.Uint))
    def set_size(self, width: int, height: int) -> None:
        self._marshal(0, width, height)

    @ZwlrLayerSurfaceV1.request(Argument(ArgumentType.Uint))
    def set_anchor(self, anchor: int) -> None:
        self._marshal(1, anchor)

    @ZwlrLayerSurfaceV1.request(Argument(ArgumentType.Int))
    def set_exclusive_zone(self, zone: int) -> None:
        self._marshal(2, zone)

    @ZwlrLayerSurfaceV1.request(
        Argument(ArgumentType.Int),
        Argument(ArgumentType.Int),
        Argument(ArgumentType.Int),
        Argument(ArgumentType.Int),
    )
    def set_margin(self, top: int, right: int, bottom: int, left: int) -> None:
        self._marshal(3, top, right, bottom, left)

    @ZwlrLayerSurfaceV1.request(Argument(ArgumentType.Uint))
    def set_keyboard_interactivity(self, interactivity: int) -> None:
        self._marshal(4, interactivity)

    @ZwlrLayerSurfaceV1.request(Argument(ArgumentType.Object, interface=XdgPopup))
    def get_popup(self, popup: "Any") -> None:
        self._marshal(5, popup)

    @ZwlrLayerSurfaceV1.request(Argument(ArgumentType.Uint))
    def ack_configure(self, serial: int) -> None:
        self._marshal(6, serial)

    @ZwlrLayerSurfaceV1.request()
    def destroy(self) -> None:
        self._marshal(7)
        self._destroy()


class ZwlrLayerShellV1Resource(Resource):
    interface = ZwlrLayerShellV1


class ZwlrLayerSurfaceV1Resource(Resource):
    interface = ZwlrLayerSurfaceV1

    @ZwlrLayerSurfaceV1.event(
        Argument(ArgumentType.Uint), Argument(ArgumentType.Uint), Argument(ArgumentType.Uint)
    )
    def configure(self, serial: int, width: int, height: int) -> None:
        self._post_event(0, serial, width, height)

    @ZwlrLayerSurfaceV1.event()
    def closed(self) -> None:
        self._post_event(1)


for _interface, _proxy, _resource in (
    (ZwlrLayerShellV1, ZwlrLayerShellV1Proxy, ZwlrLayerShellV1Resource),
    (ZwlrLayerSurfaceV1, ZwlrLayerSurfaceV1Proxy, ZwlrLayerSurfaceV1Resource),
):
    _interface._gen_c()
    _interface.proxy_class = _proxy
    _interface.resource_class = _resource
