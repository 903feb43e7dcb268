"""A person's window for the Wayland tests: an ordinary 64x64 xdg toplevel with the app_id
given, which prints "mapped" once shown and then answers the compositor until killed; with
--fullscreen, it asks to be fullscreen before it is mapped (a film, a game).

    python tests/wayland_window.py APP_ID [--fullscreen]
"""

from __future__ import annotations

import os
import sys

from pywayland.client import Display
from pywayland.protocol.wayland import WlCompositor, WlShm
from pywayland.protocol.xdg_shell import XdgWmBase


def main() -> None:
    display = Display()
    display.connect()
    wanted = {c.name: c for c in (WlCompositor, WlShm, XdgWmBase)}
    bound = {}

    def on_global(registry, name, interface, version):  # type: ignore[no-untyped-def]
        if interface in wanted:
            bound[interface] = registry.bind(name, wanted[interface], 1)

    registry = display.get_registry()
    registry.dispatcher["global"] = on_global
    display.roundtrip()
    wm_base = bound["xdg_wm_base"]
    wm_base.dispatcher["ping"] = lambda base, serial: base.pong(serial)
    surface = bound["wl_compositor"].create_surface()
    xdg_surface = wm_base.get_xdg_surface(surface)
    xdg_surface.dispatcher["configure"] = lambda xs, serial: xs.ack_configure(serial)
    toplevel = xdg_surface.get_toplevel()
    toplevel.set_app_id(sys.argv[1])
    toplevel.set_title(sys.argv[1])
    if "--fullscreen" in sys.argv[2:]:
        toplevel.set_fullscreen(None)
    surface.commit()
    display.roundtrip()
    size = 64 * 64 * 4
    memfd = os.memfd_create("window")
    os.ftruncate(memfd, size)
    pool = bound["wl_shm"].create_pool(memfd, size)
    buffer = pool.create_buffer(0, 64, 64, 64 * 4, WlShm.format.argb8888.value)
    surface.attach(buffer, 0, 0)
    surface.commit()
    display.roundtrip()
    print("mapped", flush=True)
    while display.dispatch(block=True) != -1:
        pass


if __name__ == "__main__":
    main()
