"""The control interface over D-Bus: each running session, on the session bus, under a
well-known name of its own (:data:`NAMESPACE` ``.p<PID>``, ``.p<PID>_<N>`` for a process's
further sessions), one object (:data:`PATH`) with one interface (:data:`INTERFACE`).

:class:`Server` answers the calls that reach a session's object, on a connection of its
own, read without blocking when its fd is readable; what it serves and does comes from its
target (the core's :class:`~cocainate.core.published.Published`). The client's side is
:func:`names`, :func:`read_all` and :func:`command`, on any blocking connection; each call
is bounded.

Only the user who runs the session can reach it: a session bus admits no other
(dbus-daemon's session configuration authenticates by the connecting process's uid), and
on a bus that does, the server asks the bus whose each caller is and refuses others.
"""

from typing import Any, Protocol

from .dbus import SEND_TIMEOUT  # a write that takes longer loses the interface

PREFIX = "io.github.cocainate"
"""The project's reverse-DNS prefix, in one place (docs/design.md, "Open decisions")."""
NAMESPACE = f"{PREFIX}.Session"
PATH = "/io/github/cocainate/Session"
INTERFACE = f"{PREFIX}.Session1"
REFUSED = f"{PREFIX}.Error.Refused"
PROPERTIES = "org.freedesktop.DBus.Properties"

INTROSPECTION = f"""<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node>
 <interface name="{INTERFACE}">
  <method name="Pause"/>
  <method name="Resume"/>
  <method name="Toggle"><arg name="paused" type="b" direction="out"/></method>
  <method name="Stop"/>
  <method name="Extend"><arg name="seconds" type="d" direction="in"/></method>
  <method name="EndAt"><arg name="timestamp" type="d" direction="in"/></method>
  <property name="Pid" type="u" access="read"/>
  <property name="Kind" type="s" access="read"/>
  <property name="State" type="s" access="read"/>
  <property name="Paused" type="b" access="read"/>
  <property name="Holding" type="as" access="read"/>
  <property name="Mode" type="s" access="read"/>
  <property name="Reason" type="s" access="read"/>
  <property name="Why" type="s" access="read"/>
  <property name="Since" type="d" access="read"/>
  <property name="Until" type="d" access="read"/>
  <property name="Conditions" type="a(sbbs)" access="read"/>
 </interface>
 <interface name="org.freedesktop.DBus.Properties">
  <method name="Get">
   <arg name="interface" type="s" direction="in"/><arg name="name" type="s" direction="in"/>
   <arg name="value" type="v" direction="out"/>
  </method>
  <method name="GetAll">
   <arg name="interface" type="s" direction="in"/>
   <arg name="properties" type="a{{sv}}" direction="out"/>
  </method>
  <method name="Set">
   <arg name="interface" type="s" direction="in"/><arg name="name" type="s" direction="in"/>
   <arg name="value" type="v" direction="in"/>
  </method>
  <signal name="PropertiesChanged">
   <arg name="interface" type="s"/><arg name="changed" type="a{{sv}}"/>
   <arg name="invalidated" type="as"/>
  </signal>
 </interface>
 <interface name="org.freedesktop.DBus.Introspectable">
  <method name="Introspect"><arg name="xml" type="s" direction="out"/></method>
 </interface>
 <interface name="org.freedesktop.DBus.Peer">
  <method name="Ping"/>
 </interface>
</node>
"""

METHODS = {"Pause": "", "Resume": "", "Toggle": "", "Stop": "", "Extend": "d", "EndAt": "d"}
"""Each method and the signature of what it takes."""

Properties = dict[str, tuple[str, Any]]


class Refused(Exception):
    """A command the session cannot carry out (no end to extend...), in one line."""


class Target(Protocol):
    def properties(self) -> "Properties": ...

    def command(self, member: str, body: "tuple[Any, ...]") -> "tuple[str | None, tuple[Any, ...]]":
        """Carry out ``member``; the reply's signature and body. Refused, or UsageError."""
        ...


class Server:
    """A session's object on a session-bus connection of its own, named when made (bounded:
    the connection and RequestName), then read without blocking (:meth:`read`). Every write
    is bounded by :data:`SEND_TIMEOUT`."""

    _made = 0

    def __init__(self, target: "Target", pid: int) -> None:
        from jeepney import MatchRule

        from . import dbus

        self.target = target
        self.connection: Any = dbus.connect("session")  # MechanismError: the caller's to say
        self.calls: list[Any] = []
        self.callers: dict[str, bool] = {}  # unique name: whether it is this user's
        self.connection.filter(MatchRule(type="method_call"), queue=self.calls)
        try:
            self.name = self._own(pid)
            self.known = target.properties()
            self.read()  # what came during those calls waits in jeepney's buffer
        except BaseException:
            self.close()
            raise

    def _own(self, pid: int) -> str:
        from . import dbus

        while True:
            Server._made += 1
            made = Server._made
            name = f"{NAMESPACE}.p{pid}" if made == 1 else f"{NAMESPACE}.p{pid}_{made}"
            # 4: DO_NOT_QUEUE; 1: now its primary owner (else a name of an earlier process
            # with this PID, or of a fork's parent: try the next)
            if dbus.call(self.connection, dbus.BUS, "RequestName", "su", (name, 4))[0] == 1:
                return name

    def fileno(self) -> "int | None":
        return None if self.connection is None else int(self.connection.sock.fileno())

    def read(self) -> None:
        """Answer what has arrived, without blocking; OSError, EOFError or ValueError when
        the connection broke."""
        from jeepney import MessageType

        from .dbus import arrived

        for message in arrived(self.connection):
            if message.header.message_type == MessageType.method_call:
                self.calls.append(message)
        while self.calls:
            self.handle(self.calls.pop(0))

    def handle(self, message: "Any") -> None:
        from jeepney import HeaderFields

        fields = message.header.fields
        interface = fields.get(HeaderFields.interface)
        member = fields.get(HeaderFields.member, "")
        signature = fields.get(HeaderFields.signature, "")
        body = message.body
        if not self._same_user(fields.get(HeaderFields.sender, "")):
            self._error(message, "org.freedesktop.DBus.Error.AccessDenied", "not your session")
            return
        if fields.get(HeaderFields.path) != PATH:
            if member == "Introspect":  # the tree down to the object, for busctl and d-feet
                self._reply(message, "s", (_node(fields.get(HeaderFields.path, "")),))
            else:
                self._error(message, "org.freedesktop.DBus.Error.UnknownObject", "no such object")
            return
        if member == "Introspect" and interface in (None, "org.freedesktop.DBus.Introspectable"):
            self._reply(message, "s", (INTROSPECTION,))
        elif member == "Ping" and interface in (None, "org.freedesktop.DBus.Peer"):
            self._reply(message)
        elif interface == PROPERTIES:
            self._properties(message, member, signature, body)
        elif member in METHODS and interface in (None, INTERFACE):
            if signature != METHODS[member]:
                want = METHODS[member] or "nothing"
                text = f"{member} takes {want}, not {signature or 'nothing'}"
                self._error(message, "org.freedesktop.DBus.Error.InvalidArgs", text)
                return
            from ..errors import CocainateError

            try:
                reply = self.target.command(member, tuple(body))
            except (Refused, CocainateError) as err:
                self._error(message, REFUSED, str(err).splitlines()[0] if str(err) else member)
                return
            self._reply(message, *reply)
            self.changed()
        else:
            self._error(message, "org.freedesktop.DBus.Error.UnknownMethod", f"no {member} here")

    def _same_user(self, sender: str) -> bool:
        """Whether ``sender`` runs as this process's user, as the bus says (asked once per
        caller, bounded; a bus that will not say admits nobody). A session bus admits no
        other user anyway; this holds on a bus that does (a TCP or shared one)."""
        known = self.callers.get(sender)
        if known is None:
            import os

            from ..errors import MechanismError
            from . import dbus

            try:
                uid = dbus.call(
                    self.connection, dbus.BUS, "GetConnectionUnixUser", "s", (sender,), SEND_TIMEOUT
                )[0]
            except MechanismError:
                uid = None
            known = uid == os.getuid()
            if len(self.callers) > 256:
                self.callers.clear()  # callers come and go: a bound, not a cache of all
            self.callers[sender] = known
        return known

    def _properties(self, message: "Any", member: str, signature: str, body: "Any") -> None:
        props = self.target.properties()
        if member == "GetAll" and signature == "s":
            self._reply(message, "a{sv}", (props if body[0] in (INTERFACE, "") else {},))
        elif (
            member == "Get"
            and signature == "ss"
            and body[0] in (INTERFACE, "")
            and body[1] in props
        ):
            self._reply(message, "v", (props[body[1]],))
        elif member == "Set":
            self._error(message, "org.freedesktop.DBus.Error.PropertyReadOnly", "read-only")
        else:
            self._error(message, "org.freedesktop.DBus.Error.InvalidArgs", "no such property")

    def changed(self) -> None:
        """Say what changed since it was last said (PropertiesChanged), if anything."""
        if self.connection is None:
            return
        from jeepney import DBusAddress, new_signal

        now = self.target.properties()
        changed = {k: v for k, v in now.items() if self.known.get(k) != v}
        if not changed:
            return
        self.known = now
        where = DBusAddress(PATH, interface=PROPERTIES)
        self._send(new_signal(where, "PropertiesChanged", "sa{sv}as", (INTERFACE, changed, [])))

    def _reply(
        self, message: "Any", signature: "str | None" = None, body: "tuple[Any, ...]" = ()
    ) -> None:
        from .dbus import reply_to

        if not reply_to(self.connection, message, signature, body):
            self.close()  # the bus is gone or stuck: the hold goes on without its interface

    def _error(self, message: "Any", name: str, text: str) -> None:
        from .dbus import error_to

        if not error_to(self.connection, message, name, text):
            self.close()

    def _send(self, message: "Any") -> None:
        from .dbus import send_within

        if not send_within(self.connection, message):
            self.close()

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            from .dbus import close_quietly

            close_quietly(connection)


def _node(path: str) -> str:
    """The introspection of a path above :data:`PATH`: the next step down."""
    below = PATH[len(path.rstrip("/")) + 1 :] if PATH.startswith(path.rstrip("/") + "/") else ""
    child = below.split("/")[0]
    inner = f' <node name="{child}"/>\n' if child else ""
    return f"<node>\n{inner}</node>\n"


# -- the client's side ------------------------------------------------------------------


def names(connection: "Any") -> "list[str]":
    """The well-known names of the running sessions on this bus, oldest process first."""
    from . import dbus

    found = [
        n for n in dbus.call(connection, dbus.BUS, "ListNames")[0] if n.startswith(NAMESPACE + ".")
    ]
    return sorted(found, key=_order)


def _order(name: str) -> "tuple[int, int]":
    pid, _, made = name.rpartition(".p")[2].partition("_")
    return (int(pid) if pid.isdigit() else 0, int(made) if made.isdigit() else 1)


def read_all(connection: "Any", names: "list[str]", timeout: float) -> "dict[str, dict[str, Any]]":
    """Each named session's properties (plain values), asked of all at once and awaited
    together within ``timeout``; a session that ends meanwhile, or does not answer, is left
    out."""
    from jeepney import DBusAddress

    from ..errors import MechanismError
    from .dbus import Pending, Prepared

    pending = []
    for name in names:
        address = DBusAddress(PATH, name, PROPERTIES)
        call = Prepared(connection, address, "GetAll", "s", (INTERFACE,))
        pending.append((name, Pending(call, timeout)))
    found: dict[str, dict[str, Any]] = {}
    for name, waiting in pending:
        try:
            props = waiting.reply().body[0]
        except MechanismError:
            continue  # gone since it was listed, or stuck: not a session to show
        found[name] = {key: value for key, (_sig, value) in props.items()}
    return found


def command(
    connection: "Any", name: str, member: str, body: "tuple[Any, ...]" = (), timeout: float = 2.0
) -> "tuple[Any, ...]":
    """Call ``member`` on session ``name``: the reply's body, or MechanismError (CallError
    when the session refused: its error's text is the reason)."""
    from jeepney import DBusAddress

    from . import dbus

    address = DBusAddress(PATH, name, INTERFACE)
    return dbus.call(connection, address, member, METHODS[member] or None, body, timeout)
