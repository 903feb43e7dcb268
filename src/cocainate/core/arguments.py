"""Session arguments, checked and normalised where the mistake is made."""

import math
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..mechanisms import Mode

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime, timedelta
    from typing import Union

    from ..conditions import Condition
    from ..mechanisms import Entry

    # Only for the type checker (a Union with a forward reference: start-up).
    DurationLike = Union[float, int, timedelta, None]


def mode(value: "Mode | str") -> "Mode":
    try:
        return Mode(value)
    except ValueError:
        raise UsageError(f"unknown mode {value!r} (use display or system)") from None


def conditions(value: "Iterable[Condition] | Condition") -> "tuple[Condition, ...]":
    if not value:
        return ()
    from ..conditions import check  # only for a session that has some: start-up

    return check(value)


def gates(given: "tuple[Condition, ...]", only_on_ac: bool) -> "tuple[Condition, ...]":
    """The gates every hold needs: those given, and mains power with ``only_on_ac``."""
    if not only_on_ac:
        return given
    from ..conditions import OnACPower

    return (*given, OnACPower())


def default_reason(mode: "Mode") -> str:
    what = "display" if mode is Mode.DISPLAY else "system"
    return f"cocainate is keeping the {what} awake"


def reason(text: object) -> "str | None":
    """A reason the services can carry: a string, UTF-8, with no NUL (D-Bus forbids it)."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise UsageError(f"reason must be a string, not {text!r}")
    if "\0" in text:
        raise UsageError("the reason contains a NUL character, which D-Bus cannot carry")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError("the reason is not valid UTF-8 (bytes that are no text?)") from None
    return text


def seconds(duration: "DurationLike", what: str = "duration") -> "float | None":
    """``duration`` in seconds (None or 0: none); ``what`` names it in the error."""
    if duration is None:
        return None
    if hasattr(duration, "total_seconds"):  # a timedelta, without importing datetime
        seconds = float(duration.total_seconds())
    elif isinstance(duration, (int, float)) and not isinstance(duration, bool):
        seconds = float(duration)
    else:
        raise UsageError(f"{what} must be seconds or a timedelta, not {duration!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise UsageError(f"{what} must be a finite number of seconds >= 0, not {duration!r}")
    # 0 means no limit, as in the Go original.
    return seconds or None


def timeout(value: "DurationLike") -> float:
    """A wait's time limit in seconds, checked as a duration is (0: do not wait)."""
    return seconds(value, "timeout") or 0.0


def timestamp(until: "datetime | float | None") -> "float | None":
    if until is None:
        return None
    if hasattr(until, "timestamp"):  # a datetime (naive means local time), without importing it
        return float(until.timestamp())
    if isinstance(until, (int, float)) and not isinstance(until, bool) and math.isfinite(until):
        return float(until)
    raise UsageError(f"until must be a datetime or a timestamp, not {until!r}")


def pids(pids: "Iterable[int] | int") -> "tuple[int, ...]":
    """The PIDs to wait for: one, or several (repeats dropped)."""
    import os

    given: Iterable[object] = (pids,) if isinstance(pids, (int, str, bytes)) else pids
    try:  # (a string is one wrong value, not the characters of several)
        each = iter(given)
    except TypeError:
        raise UsageError(f"pids must be a PID or PIDs, not {pids!r}") from None
    out: list[int] = []
    for pid in each:
        if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid < 2**31:
            raise UsageError(f"a PID must be a positive 32-bit integer, not {pid!r}")
        if pid == os.getpid():
            raise UsageError(f"PID {pid} is this very process: it cannot wait for its own exit")
        if pid not in out:
            out.append(pid)
    return tuple(out)


def methods(names: "Iterable[str] | str | None") -> "tuple[str, ...]":
    """The mechanisms named (one name, or several), in order; () for every one. Unknown
    names are refused by :func:`cocainate.mechanisms.select`."""
    if names is None:
        return ()
    if isinstance(names, str):
        return (names,)
    try:
        given = tuple(names)
    except TypeError:
        raise UsageError(f"methods must be mechanism names, not {names!r}") from None
    for name in given:
        if not isinstance(name, str):
            raise UsageError(f"a method is a mechanism's name, such as 'screensaver', not {name!r}")
    return given


def source(given: object) -> None:
    """Refuse what ``Session.watch`` cannot watch: it calls ``fileno()`` and
    ``on_readable(fd)``."""
    for method in ("fileno", "on_readable"):
        if not callable(getattr(given, method, None)):
            raise UsageError(f"watch() needs fileno() and on_readable(fd), which {given!r} lacks")


def kind(text: object) -> str:
    """What a published session says it is ("hold", "watch", "program"...)."""
    if not isinstance(text, str) or not text.strip() or "\0" in text:
        raise UsageError(f"kind must be a word such as 'program', not {text!r}")
    return text


def callback(function: object, what: str) -> None:
    """Refuse what cannot be called back (None: nothing is)."""
    if function is not None and not callable(function):
        raise UsageError(f"{what} must be callable, not {function!r}")


def with_lid(entries: "tuple[Entry, ...]", mode: "Mode") -> "tuple[Entry, ...]":
    """``entries`` and the lid's lock (``lid=True``), which only the system mode takes."""
    from ..mechanisms import entries as known

    if mode is not Mode.SYSTEM:
        raise UsageError(
            "the lid (--lid) needs mode system: with the lid closed only the system can stay awake"
        )
    lid = [entry for entry in known() if entry.name == "logind-lid"]
    if not lid:
        raise UsageError("the lid (--lid) is held through systemd-logind, on Linux only")
    return entries if lid[0] in entries else (*entries, lid[0])
