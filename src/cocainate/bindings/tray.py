"""A tray icon over D-Bus: a StatusNotifierItem (org.kde.StatusNotifierItem) and its menu
(com.canonical.dbusmenu), served on one jeepney connection, no toolkit.

:class:`Tray` answers the method calls that reach its two objects (:meth:`Tray.handle`),
says what changed with the protocols' signals (:meth:`Tray.update`), and registers with
the StatusNotifierWatcher (:meth:`Tray.register`). The program that uses it owns the
connection and the loop (:class:`~cocainate.bindings.icon.Icon` gives it a connection
of its own); every call it makes here is a send that does not wait, except the
registration's, which is bounded.
"""

from dataclasses import dataclass, field
from typing import Any, Callable

ITEM_PATH = "/StatusNotifierItem"
MENU_PATH = "/MenuBar"
ITEM = "org.kde.StatusNotifierItem"
MENU = "com.canonical.dbusmenu"
WATCHER = "org.kde.StatusNotifierWatcher"
PROPERTIES = "org.freedesktop.DBus.Properties"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"
REGISTER_TIMEOUT = 2.0

_INTROSPECTION = {
    ITEM_PATH: f"""<node>
 <interface name="{ITEM}">
  <property name="Category" type="s" access="read"/>
  <property name="Id" type="s" access="read"/>
  <property name="Title" type="s" access="read"/>
  <property name="Status" type="s" access="read"/>
  <property name="WindowId" type="i" access="read"/>
  <property name="IconName" type="s" access="read"/>
  <property name="IconPixmap" type="a(iiay)" access="read"/>
  <property name="OverlayIconName" type="s" access="read"/>
  <property name="AttentionIconName" type="s" access="read"/>
  <property name="ToolTip" type="(sa(iiay)ss)" access="read"/>
  <property name="ItemIsMenu" type="b" access="read"/>
  <property name="Menu" type="o" access="read"/>
  <property name="IconThemePath" type="s" access="read"/>
  <method name="Activate"><arg name="x" type="i"/><arg name="y" type="i"/></method>
  <method name="SecondaryActivate"><arg name="x" type="i"/><arg name="y" type="i"/></method>
  <method name="ContextMenu"><arg name="x" type="i"/><arg name="y" type="i"/></method>
  <method name="Scroll"><arg name="delta" type="i"/><arg name="orientation" type="s"/></method>
  <signal name="NewTitle"/>
  <signal name="NewIcon"/>
  <signal name="NewToolTip"/>
  <signal name="NewStatus"><arg name="status" type="s"/></signal>
 </interface>
</node>""",
    MENU_PATH: f"""<node>
 <interface name="{MENU}">
  <property name="Version" type="u" access="read"/>
  <property name="TextDirection" type="s" access="read"/>
  <property name="Status" type="s" access="read"/>
  <property name="IconThemePath" type="as" access="read"/>
  <method name="GetLayout">
   <arg name="parentId" type="i" direction="in"/>
   <arg name="recursionDepth" type="i" direction="in"/>
   <arg name="propertyNames" type="as" direction="in"/>
   <arg name="revision" type="u" direction="out"/>
   <arg name="layout" type="(ia{{sv}}av)" direction="out"/>
  </method>
  <method name="GetGroupProperties">
   <arg name="ids" type="ai" direction="in"/>
   <arg name="propertyNames" type="as" direction="in"/>
   <arg name="properties" type="a(ia{{sv}})" direction="out"/>
  </method>
  <method name="GetProperty">
   <arg name="id" type="i" direction="in"/>
   <arg name="name" type="s" direction="in"/>
   <arg name="value" type="v" direction="out"/>
  </method>
  <method name="Event">
   <arg name="id" type="i" direction="in"/>
   <arg name="eventId" type="s" direction="in"/>
   <arg name="data" type="v" direction="in"/>
   <arg name="timestamp" type="u" direction="in"/>
  </method>
  <method name="EventGroup">
   <arg name="events" type="a(isvu)" direction="in"/>
   <arg name="idErrors" type="ai" direction="out"/>
  </method>
  <method name="AboutToShow">
   <arg name="id" type="i" direction="in"/>
   <arg name="needUpdate" type="b" direction="out"/>
  </method>
  <method name="AboutToShowGroup">
   <arg name="ids" type="ai" direction="in"/>
   <arg name="updatesNeeded" type="ai" direction="out"/>
   <arg name="idErrors" type="ai" direction="out"/>
  </method>
  <signal name="ItemsPropertiesUpdated">
   <arg name="updatedProps" type="a(ia{{sv}})"/>
   <arg name="removedProps" type="a(ias)"/>
  </signal>
  <signal name="LayoutUpdated"><arg name="revision" type="u"/><arg name="parent" type="i"/></signal>
  <signal name="ItemActivationRequested">
   <arg name="id" type="i"/><arg name="timestamp" type="u"/>
  </signal>
 </interface>
</node>""",
}


PIXELS = 22
"""The side of the drawn icon, for hosts that find no icon of that name in their theme."""
_drawn: "dict[bool, bytes]" = {}


def _pixmap(active: bool) -> bytes:
    """The icon drawn, as StatusNotifierItem wants it (ARGB32, network byte order): an
    amber sun while holding, a grey crescent moon when not."""
    if active not in _drawn:
        out = bytearray()
        middle, radius = (PIXELS - 1) / 2, PIXELS / 2 - 1.5
        for y in range(PIXELS):
            for x in range(PIXELS):
                inside = (x - middle) ** 2 + (y - middle) ** 2 <= radius**2
                if not active:  # the crescent: the disc less a disc moved up and right
                    shadow = (x - middle - 5) ** 2 + (y - middle + 4) ** 2 <= radius**2
                    inside = inside and not shadow
                colour = (0xFF, 0xF5, 0xA6, 0x23) if active else (0xFF, 0xB0, 0xB8, 0xC8)
                out += bytes(colour) if inside else bytes(4)
        _drawn[active] = bytes(out)
    return _drawn[active]


@dataclass
class Item:
    """One entry of the menu (ids from 1; 0 is the root)."""

    label: str = ""
    enabled: bool = True
    separator: bool = False
    checked: "bool | None" = None  # a checkmark item's state; None: no checkmark

    def properties(self) -> "dict[str, tuple[str, Any]]":
        if self.separator:
            return {"type": ("s", "separator")}
        props: dict[str, tuple[str, Any]] = {
            "label": ("s", self.label),
            "enabled": ("b", self.enabled),
        }
        if self.checked is not None:
            props["toggle-type"] = ("s", "checkmark")
            props["toggle-state"] = ("i", 1 if self.checked else 0)
        return props


@dataclass
class State:
    """What the icon shows."""

    active: bool = False  # holding: the icon says so, and the item's Status is Active
    title: str = "cocainate"
    tooltip: str = ""
    menu: "list[Item]" = field(default_factory=list)


Activate = Callable[[], None]
Clicked = Callable[[int], None]  # a menu item's id


class Tray:
    def __init__(self, connection: "Any", on_activate: "Activate", on_clicked: "Clicked") -> None:
        self.connection = connection
        self.on_activate, self.on_clicked = on_activate, on_clicked
        self.state = State()
        self.revision = 1

    # -- what the item and the menu say -----------------------------------------------------

    def item_properties(self) -> "dict[str, tuple[str, Any]]":
        state = self.state
        return {
            "Category": ("s", "ApplicationStatus"),
            "Id": ("s", "cocainate"),
            "Title": ("s", state.title),
            "Status": ("s", "Active" if state.active else "Passive"),
            "WindowId": ("i", 0),
            # the Icon Naming Specification's sun and moon: awake, or free to sleep
            "IconName": ("s", "weather-clear" if state.active else "weather-clear-night"),
            "IconPixmap": ("a(iiay)", [(PIXELS, PIXELS, _pixmap(state.active))]),
            "OverlayIconName": ("s", ""),
            "AttentionIconName": ("s", ""),
            "ToolTip": ("(sa(iiay)ss)", ("", [], state.title, state.tooltip)),
            "ItemIsMenu": ("b", False),
            "Menu": ("o", MENU_PATH),
            "IconThemePath": ("s", ""),
        }

    def menu_properties(self) -> "dict[str, tuple[str, Any]]":
        return {
            "Version": ("u", 3),
            "TextDirection": ("s", "ltr"),
            "Status": ("s", "normal"),
            "IconThemePath": ("as", []),
        }

    def _item(self, item_id: int) -> "dict[str, tuple[str, Any]] | None":
        if item_id == 0:
            return {"children-display": ("s", "submenu")}
        if 1 <= item_id <= len(self.state.menu):
            return self.state.menu[item_id - 1].properties()
        return None

    def _layout(self, item_id: int, depth: int, names: "list[str]") -> "tuple[Any, ...]":
        props = self._only(self._item(item_id) or {}, names)
        children: list[tuple[str, Any]] = []
        if item_id == 0 and depth != 0:
            for child in range(1, len(self.state.menu) + 1):
                children.append(("(ia{sv}av)", self._layout(child, depth - 1, names)))
        return (item_id, props, children)

    @staticmethod
    def _only(
        props: "dict[str, tuple[str, Any]]", names: "list[str]"
    ) -> "dict[str, tuple[str, Any]]":
        return {k: v for k, v in props.items() if not names or k in names}

    # -- the calls that reach it ------------------------------------------------------------

    def handle(self, message: "Any") -> bool:
        """Answer a method call to the item or the menu; False if it is for neither."""
        from jeepney import HeaderFields, MessageType

        fields = message.header.fields
        path = fields.get(HeaderFields.path)
        if message.header.message_type != MessageType.method_call or path not in _INTROSPECTION:
            return False
        interface = fields.get(HeaderFields.interface)
        member = fields.get(HeaderFields.member, "")
        try:
            self._dispatch(message, path, interface, member)
        except (ValueError, TypeError, IndexError, KeyError) as err:  # a malformed call
            self._error(message, "org.freedesktop.DBus.Error.InvalidArgs", str(err))
        return True

    def _dispatch(self, message: "Any", path: str, interface: "str | None", member: str) -> None:
        from jeepney import HeaderFields

        body = message.body
        signature = message.header.fields.get(HeaderFields.signature, "")
        own = ITEM if path == ITEM_PATH else MENU
        if member == "Introspect" and interface in (INTROSPECTABLE, None):
            self._reply(message, "s", (_INTROSPECTION[path],))
        elif interface == PROPERTIES or (interface is None and member in ("Get", "GetAll")):
            props = self.item_properties() if path == ITEM_PATH else self.menu_properties()
            if member == "GetAll" and signature == "s":
                self._reply(message, "a{sv}", (props if body[0] in (own, "") else {},))
            elif (
                member == "Get" and signature == "ss" and body[1] in props and body[0] in (own, "")
            ):
                self._reply(message, "v", (props[body[1]],))
            elif member == "Set":
                self._error(message, "org.freedesktop.DBus.Error.PropertyReadOnly", "read-only")
            else:
                self._error(message, "org.freedesktop.DBus.Error.UnknownProperty", str(body))
        elif path == ITEM_PATH and member in ("Activate", "SecondaryActivate"):
            self._reply(message)
            self.on_activate()
        elif path == ITEM_PATH and member in ("ContextMenu", "Scroll"):
            self._reply(message)  # the host shows the menu itself; scrolling means nothing
        elif path == MENU_PATH and member == "GetLayout" and signature == "iias":
            parent, depth, names = body
            if self._item(parent) is None:
                raise ValueError(f"no menu item {parent}")
            layout = self._layout(parent, depth, list(names))
            self._reply(message, "u(ia{sv}av)", (self.revision, layout))
        elif path == MENU_PATH and member == "GetGroupProperties" and signature == "aias":
            ids, names = body
            rows = [
                (i, self._only(p, list(names))) for i in ids if (p := self._item(i)) is not None
            ]
            self._reply(message, "a(ia{sv})", (rows,))
        elif path == MENU_PATH and member == "GetProperty" and signature == "is":
            props = self._item(body[0]) or {}
            self._reply(message, "v", (props[body[1]],))
        elif path == MENU_PATH and member == "Event" and signature == "isvu":
            self._reply(message)
            if body[1] == "clicked" and self._item(body[0]) is not None and body[0] > 0:
                self.on_clicked(body[0])
        elif path == MENU_PATH and member == "EventGroup" and signature == "a(isvu)":
            unknown = [i for i, _e, _d, _t in body[0] if self._item(i) is None]
            self._reply(message, "ai", (unknown,))
            for item_id, event, _data, _time in body[0]:
                if event == "clicked" and item_id > 0 and item_id not in unknown:
                    self.on_clicked(item_id)
        elif path == MENU_PATH and member == "AboutToShow" and signature == "i":
            self._reply(message, "b", (False,))
        elif path == MENU_PATH and member == "AboutToShowGroup" and signature == "ai":
            unknown = [i for i in body[0] if self._item(i) is None]
            self._reply(message, "aiai", ([], unknown))
        else:
            self._error(message, "org.freedesktop.DBus.Error.UnknownMethod", f"{member}")

    def _reply(
        self, message: "Any", signature: "str | None" = None, body: "tuple[Any, ...]" = ()
    ) -> None:
        from .dbus import reply_to

        reply_to(self.connection, message, signature, body)  # gone: the loop finds out

    def _error(self, message: "Any", name: str, text: str) -> None:
        from .dbus import error_to

        error_to(self.connection, message, name, text)

    def _send(self, message: "Any") -> None:
        from .dbus import send_within

        send_within(self.connection, message)  # gone or stuck: the loop finds out

    # -- saying what changed ------------------------------------------------------------------

    def update(self, state: "State") -> None:
        """Show ``state``: the item's and the menu's signals for what differs."""
        from jeepney import DBusAddress, new_signal

        old, self.state = self.state, state
        item = DBusAddress(ITEM_PATH, interface=ITEM)
        if old.active != state.active:
            self._send(
                new_signal(item, "NewStatus", "s", ("Active" if state.active else "Passive",))
            )
            self._send(new_signal(item, "NewIcon"))
        if (old.title, old.tooltip) != (state.title, state.tooltip):
            self._send(new_signal(item, "NewToolTip"))
        if old.title != state.title:
            self._send(new_signal(item, "NewTitle"))
        if old.menu != state.menu:
            self.revision += 1
            menu = DBusAddress(MENU_PATH, interface=MENU)
            self._send(new_signal(menu, "LayoutUpdated", "ui", (self.revision, 0)))

    def register(self, name: str) -> "str | None":
        """Tell the StatusNotifierWatcher of the item (bus name ``name``); None, or why not.
        Bounded; the answer is awaited."""
        from jeepney import DBusAddress

        from ..errors import MechanismError
        from .dbus import call

        watcher = DBusAddress("/StatusNotifierWatcher", WATCHER, WATCHER)
        try:
            call(
                self.connection,
                watcher,
                "RegisterStatusNotifierItem",
                "s",
                (name,),
                REGISTER_TIMEOUT,
            )
        except MechanismError as err:
            return str(err)
        return None
