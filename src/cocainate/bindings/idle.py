"""Idle bus connections, one per bus and address in a process: a hold that let go
cleanly (every UnInhibit answered, no call left unanswered, nothing tainted) gives its
connections back (:func:`give_back`), and the next hold takes them (:func:`take_back`)
without connecting and saying Hello again.

An idle connection holds nothing; it keeps its match rules (the next hold of the same
services needs the same), and what reached it meanwhile is read and dropped when it is
taken (an end of file there means the bus closed it: a new connection is made). A name's
change still on its way then is no harm, as on a new connection: it comes before the
service's answer to the hold's Inhibit, read together with it, and only the last owner in
what arrives together is heard. Idle connections are closed at exit (:func:`close_idle`),
and a process made by fork() never uses its parent's. Taking one is a dict's atomic
``pop``: holds in two threads never share a socket.
"""

import os
from typing import Any

from ..errors import MechanismError
from .dbus import bus_address, close_quietly

_idle: "dict[tuple[str, str], tuple[int, Any, set[str]]]" = {}
"""(kind, address) -> (the pid that gave it back, the connection, its match rules)."""
_at_exit: "list[bool]" = []  # [True] once close_idle is registered to run at exit
MAX_IDLE_RULES = 32
"""An idle connection with more match rules than this is closed, not kept."""


def give_back(kind: str, connection: "Any", matched: "set[str]") -> bool:
    """Keep ``connection`` for the next hold of this process. False when it cannot be
    kept (the caller closes it)."""
    if getattr(connection, "cocainate_early", None) or len(matched) > MAX_IDLE_RULES:
        return False  # a call is still awaited on it
    try:
        key = (kind, bus_address(kind))
    except MechanismError:
        return False
    if not _at_exit:
        import atexit

        atexit.register(close_idle)
        _at_exit.append(True)
    entry = (os.getpid(), connection, matched)
    return _idle.setdefault(key, entry) is entry  # another thread's came first: close ours


def take_back(kind: str) -> "tuple[Any, set[str]] | None":
    """The idle connection to the ``kind`` bus of the moment and its match rules, or None
    (none, or the bus closed it meanwhile). What has arrived on it is dropped."""
    try:
        key = (kind, bus_address(kind))
    except MechanismError:
        return None
    entry = _idle.pop(key, None)
    if entry is None:
        return None
    pid, connection, matched = entry
    if pid != os.getpid():
        return None  # the parent's: this process's copy of the socket goes with the GC
    try:
        while True:
            connection.receive(timeout=0)  # stale; EOF if the bus closed it meanwhile
    except TimeoutError:
        pass  # all read
    except Exception:  # broken: a new connection will do
        close_quietly(connection)
        return None
    return connection, matched


def close_idle() -> None:
    """Close the idle connections (at exit). Never raises."""
    while _idle:
        try:
            _key, (pid, connection, _matched) = _idle.popitem()
        except KeyError:
            return
        if pid == os.getpid():
            close_quietly(connection)
