"""A tray item on a session-bus connection of its own (:class:`Icon`): what both
``cocainate tray`` and a hold's ``--tray`` show, with the objects of
:mod:`cocainate.bindings.tray` served on it."""

from typing import Any, Callable

from .tray import WATCHER, Activate, Clicked, State, Tray


class Icon:
    """A tray item on a session-bus connection of its own: connected, named
    (org.kde.StatusNotifierItem-PID-N), registered with the watcher now if one runs and
    again whenever one appears, and read without blocking (:meth:`read`, when
    :meth:`fileno` is readable). ``said`` hears how the registration went, in words.

    A watcher may own its name before it serves its object (the Haskell
    status-notifier-watcher does): a registration refused then is made again when a host
    registers with the watcher (StatusNotifierHostRegistered), which is when an icon
    could be shown at all; no timer."""

    _made = 0

    def __init__(
        self,
        on_activate: "Activate",
        on_clicked: "Clicked",
        state: "State",
        said: "Callable[[str], None]",
    ) -> None:
        import os

        from jeepney import MatchRule, message_bus

        from . import dbus

        self.said = said
        self.registered = False
        self.connection: Any = dbus.connect("session")  # MechanismError: the caller says it
        self.calls: list[Any] = []
        self.connection.filter(MatchRule(type="method_call"), queue=self.calls)  # none dropped
        Icon._made += 1
        self.name = f"org.kde.StatusNotifierItem-{os.getpid()}-{Icon._made}"
        self.tray = Tray(self.connection, on_activate, on_clicked)
        self.tray.state = state
        try:
            dbus.call(self.connection, dbus.BUS, "RequestName", "su", (self.name, 4))
            self.connection.send(message_bus.AddMatch(dbus.owner_changes(WATCHER)))
            hosts = MatchRule(
                type="signal", interface=WATCHER, member="StatusNotifierHostRegistered"
            )
            self.connection.send(message_bus.AddMatch(hosts))
            if dbus.name_has_owner(self.connection, WATCHER):
                self.register()
            else:
                said("no tray is running yet; the icon appears when one starts")
            # What came during those calls may wait in jeepney's buffer, where no poll of
            # the socket sees it: read it now.
            self.read()
        except BaseException:
            self.close()
            raise

    def register(self) -> None:
        problem = self.tray.register(self.name)
        self.registered = problem is None
        self.said(
            "the icon is in the tray" if problem is None else f"the tray refused it: {problem}"
        )

    def fileno(self) -> "int | None":
        return None if self.connection is None else int(self.connection.sock.fileno())

    def read(self) -> None:
        """Answer what has arrived, without blocking; OSError, EOFError or ValueError when
        the connection broke."""
        from jeepney import HeaderFields, MessageType

        from .dbus import arrived

        for message in arrived(self.connection):
            member = message.header.fields.get(HeaderFields.member)
            if message.header.message_type == MessageType.method_call:
                self.calls.append(message)
            elif member == "NameOwnerChanged" and message.body[0] == WATCHER:
                self.registered = False
                if message.body[2]:
                    self.register()  # a tray (re)started: bounded
            elif member == "StatusNotifierHostRegistered" and not self.registered:
                self.register()  # the watcher refused it before it was ready
        self.answer()

    def answer(self) -> None:
        """Answer the calls kept meanwhile (by a filter, during a blocking call)."""
        while self.calls:
            self.tray.handle(self.calls.pop(0))

    def show(self, state: "State") -> None:
        if self.connection is not None:
            self.tray.update(state)

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()
