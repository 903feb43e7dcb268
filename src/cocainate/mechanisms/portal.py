"""``org.freedesktop.portal.Inhibit``: the desktop portal, for programs in a sandbox.

Inside Flatpak or Snap the session bus is filtered and the portal is the way to hold;
there it is tried first. Elsewhere it is tried only when named (``--method portal``): the
portal passes the hold on to the desktop's own services, which cocainate asks directly.

Inhibit returns the handle of a Request object, and the hold lasts until Close is called
on it (or the caller's connection closes). xdg-desktop-portal then says on the request
whether its backend took it: a Response of 0 is a hold, anything else a refusal. The
Response is watched for from before the call (its path is known in advance: the caller's
unique name and a token of ours); a refusal within :data:`RESPONSE_WAIT` of the grant
fails the acquisition, a later one is a loss. Portals that say nothing (before 1.16) hold
on the grant alone.
"""

import os
from typing import Any, Callable

from ..errors import MechanismError
from . import Blocks, Mode
from ._bus import BusInhibitor

IDLE, SUSPEND = 8, 4  # the Inhibit flags: 1 logout, 2 user switch, 4 suspend, 8 idle
REQUEST = "org.freedesktop.portal.Request"
RESPONSE_WAIT = 0.5
"""Seconds to wait, after the grant, for the portal's Response saying whether it holds."""


class PortalInhibitor(BusInhibitor):
    name = "portal"
    title = "org.freedesktop.portal.Inhibit"
    blocks = {
        Mode.DISPLAY: frozenset({Blocks.SCREEN_IDLE, Blocks.SLEEP}),
        Mode.SYSTEM: frozenset({Blocks.SLEEP, Blocks.SUSPEND}),
    }
    service = "org.freedesktop.portal.Desktop"
    paths = ("/org/freedesktop/portal/desktop",)
    interface = "org.freedesktop.portal.Inhibit"
    inhibit_signature = "sua{sv}"
    reply_signature = "o"
    auto_start = True  # the portal is started on demand

    _requests = ""  # where our requests' objects are: .../request/<our unique name>

    def probe(self) -> "str | None":
        from ..bindings.dbus import name_has_owner

        try:
            connection = self.resources.bus(self.bus)
            if name_has_owner(connection, self.service) or _activatable(connection, self.service):
                return None
        except MechanismError as err:
            return str(err)
        return f"{self.service} is neither running nor startable on the {self.bus} bus"

    def inhibit_args(self, mode: "Mode", reason: str) -> "tuple[Any, ...]":
        options = {
            "handle_token": ("s", "cocainate_" + os.urandom(8).hex()),
            "reason": ("s", reason),
        }
        return ("", IDLE if mode is Mode.DISPLAY else SUSPEND, options)

    def uninhibit_call(
        self, cookie: "Any", path: str, owner: str
    ) -> "tuple[Any, str, str | None, tuple[Any, ...]]":
        from jeepney import DBusAddress

        return DBusAddress(cookie, owner, REQUEST), "Close", None, ()  # cookie: the handle

    def start_acquire(self, mode: "Mode", reason: str) -> "Callable[[], None]":
        from jeepney import MatchRule

        connection = self.resources.bus(self.bus)
        sender = connection.unique_name.lstrip(":").replace(".", "_")
        self._requests = f"{self.paths[0]}/request/{sender}"
        rule = MatchRule(
            type="signal", interface=REQUEST, member="Response", path_namespace=self._requests
        )
        self.resources.link(self.bus).subscribe(rule, self._responded)
        return super().start_acquire(mode, reason)

    def confirm(self) -> None:
        from jeepney import HeaderFields, MessageType

        from ..bindings.dbus import wait_for

        handle = self._cookie

        def is_response(message: "Any") -> bool:
            fields = message.header.fields
            return bool(
                message.header.message_type == MessageType.signal
                and fields.get(HeaderFields.path) == handle
                and fields.get(HeaderFields.member) == "Response"
            )

        response = wait_for(self.resources.bus(self.bus), is_response, RESPONSE_WAIT)
        code = None if response is None else _code(response)
        if code:  # 0: held; None: said nothing (or nothing readable): held on the grant
            raise MechanismError(f"the portal refused to inhibit (response {code})")

    def _responded(self, message: "Any") -> None:
        """A Response on one of our requests: a refusal of the one held is a loss."""
        from jeepney import HeaderFields

        code = _code(message)
        if not code or self._cookie is None:
            return
        if message.header.fields.get(HeaderFields.path) == self._cookie:
            self._forget()
            self._wanted = None  # a refusal stands: not asked again
            self._lost(f"the portal stopped inhibiting (response {code})")

    def start_release(self) -> "Callable[[], None] | None":
        self.resources.link(self.bus).unsubscribe(self._responded)
        return super().start_release()


def _activatable(connection: "Any", name: str) -> bool:
    from ..bindings.dbus import BUS, call

    (names,) = call(connection, BUS, "ListActivatableNames")
    return name in names


def _code(message: "Any") -> "int | None":
    """A Response's code (``ua{sv}``), or None if it is not one."""
    from jeepney import HeaderFields

    if message.header.fields.get(HeaderFields.signature) != "ua{sv}":
        return None
    code: int = message.body[0]
    return code
