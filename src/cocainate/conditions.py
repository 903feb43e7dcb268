"""Conditions: hold only while something is happening.

A session given ``conditions`` holds while at least one of them is met and waits, holding
nothing, while none is; ``only_on_ac`` adds a gate that must also be open (mains power).
Each condition here is a plain description, checked when made; a session makes its own live
watcher from it when it starts (:meth:`Condition.watcher`), so one description may serve
many sessions. Every watcher wakes the session only when something changes, except the
process scan, which looks for a new process every ``interval`` seconds while none matches.
"""

from typing import TYPE_CHECKING

from .errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .watchers import Watcher

SCAN_INTERVAL = 2.0
"""Seconds between two looks for a new process, while none of the names runs."""


class Condition:
    """What a session may wait for. Subclasses say what, and make its watcher."""

    def describe(self) -> str:
        """What it waits for, as a person says it: ``"ffmpeg runs"``."""
        raise NotImplementedError

    def watcher(self) -> "Watcher":
        """A live watcher of this condition, for one session."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}>"


def process_name(name: object) -> str:
    """A name a process is known by, checked (the CLI checks ``--while-running`` here too)."""
    if not isinstance(name, str) or not name or "/" in name or "\0" in name:
        raise UsageError(
            f"invalid process name {name!r}: give the executable's name, without a path"
        )
    return name


def scan_interval(seconds: object) -> float:
    """Seconds between two looks for a new process, checked."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise UsageError(f"invalid scan interval {seconds!r}: give seconds")
    if not 0.05 <= seconds <= 3600:
        raise UsageError(f"invalid scan interval {seconds!r}: from 0.05 to 3600 seconds")
    return float(seconds)


class ProcessRunning(Condition):
    """Met while a process known by one of ``names`` runs: its name as ``ps -e`` shows it
    (``ffmpeg``; ``robocopy.exe`` or ``robocopy`` on Windows), and on Linux also the file
    name of its ``argv[0]``, of the script an interpreter runs (``job.py`` for ``python3
    job.py``, ``sh job.sh``, ``./job.py``) or of its executable.

    A process found is then waited on (a pidfd, a kqueue, a process handle): nothing wakes
    while it runs. While none runs, the process list is read every ``interval`` seconds.
    """

    def __init__(self, *names: str, interval: float = SCAN_INTERVAL) -> None:
        if not names:
            raise UsageError("ProcessRunning needs at least one process name")
        self.names = tuple(dict.fromkeys(process_name(name) for name in names))
        self.interval = scan_interval(interval)

    def describe(self) -> str:
        return " or ".join(self.names) + (" runs" if len(self.names) == 1 else " run")

    def watcher(self) -> "Watcher":
        from .watchers.process import ProcessWatcher

        return ProcessWatcher(self.names, self.interval)


class MediaPlaying(Condition):
    """Met while any MPRIS media player (``org.mpris.MediaPlayer2.*`` on the session bus)
    says its PlaybackStatus is "Playing"; followed by its signals, never polled."""

    def describe(self) -> str:
        return "media plays"

    def watcher(self) -> "Watcher":
        _needs_freedesktop("media players are followed over D-Bus (MPRIS)")
        from .watchers.mpris import MediaWatcher

        return MediaWatcher()


class AudioPlaying(Condition):
    """Met while an output stream plays through PulseAudio (or PipeWire's PulseAudio
    server): one that is not corked (paused), not muted and not at zero volume, of an
    application not in ``ignore`` (its name or its executable's, in any case). Followed by
    the server's events through pulsectl (the ``audio`` extra), never polled."""

    def __init__(self, ignore: "Iterable[str]" = ()) -> None:
        if isinstance(ignore, str):
            ignore = (ignore,)
        try:
            names = tuple(ignore)
        except TypeError:
            raise UsageError(f"ignore takes application names, not {ignore!r}") from None
        self.ignore = tuple(dict.fromkeys(app_name(name) for name in names))

    def describe(self) -> str:
        return "audio plays"

    def watcher(self) -> "Watcher":
        _needs_freedesktop("audio is followed through PulseAudio or PipeWire")
        from .watchers.audio import AudioWatcher

        return AudioWatcher(self.ignore)


def app_name(name: object) -> str:
    """An application's name as the sound server knows it, checked (the CLI checks
    ``--ignore-app`` here too)."""
    if not isinstance(name, str) or not name.strip() or "\0" in name:
        raise UsageError(f"invalid application name {name!r}: give its name, such as firefox")
    return name.strip()


class Fullscreen(Condition):
    """Met while the focused window is fullscreen: on X11 from the window manager's EWMH
    properties, on Wayland from wlr-foreign-toplevel-management; both followed by events."""

    def describe(self) -> str:
        return "a window is fullscreen"

    def watcher(self) -> "Watcher":
        _needs_freedesktop("fullscreen windows are followed on X11 and Wayland")
        from .watchers.fullscreen import fullscreen_watcher

        return fullscreen_watcher()


class OnACPower(Condition):
    """Met while this machine runs on mains power (UPower's ``OnBattery`` is false), from
    UPower's signals on the system bus. A session takes it as a gate (``only_on_ac``)."""

    def describe(self) -> str:
        return "on mains power"

    def watcher(self) -> "Watcher":
        _needs_freedesktop("the power source is followed through UPower, over D-Bus")
        from .watchers.power import PowerWatcher

        return PowerWatcher()


class RemoteLogin(Condition):
    """Met while a remote login session of any user exists (SSH, or any session logind
    marks remote), from systemd-logind's session list and its SessionNew and
    SessionRemoved signals on the system bus."""

    def describe(self) -> str:
        return "a remote login exists"

    def watcher(self) -> "Watcher":
        _needs_freedesktop("logins are followed through systemd-logind, over D-Bus")
        from .watchers.remote import RemoteWatcher

        return RemoteWatcher()


def battery_floor(value: object) -> float:
    """A charge in percent, from 1 to 100 (``20`` or ``"20%"``), checked."""
    text = value.strip().removesuffix("%").strip() if isinstance(value, str) else value
    try:
        percent = float(text) if isinstance(text, (str, int, float)) else float("nan")
    except ValueError:
        percent = float("nan")
    if isinstance(value, bool) or not 1 <= percent <= 100:
        raise UsageError(f"invalid battery floor {value!r}: give a percentage from 1 to 100")
    return percent


class MinBattery(Condition):
    """Met unless this machine runs on battery below ``percent`` of its charge (UPower's
    display device; always met on mains power or without a battery); a gate: a hold lets
    go below it and holds again on mains power or once charged above it."""

    def __init__(self, percent: "float | str") -> None:
        self.percent = battery_floor(percent)

    def describe(self) -> str:
        return f"the battery above {self.percent:g} % (or on mains power)"

    def watcher(self) -> "Watcher":
        _needs_freedesktop("the battery is followed through UPower, over D-Bus")
        from .watchers.battery import BatteryWatcher

        return BatteryWatcher(self.percent)


class NotLocked(Condition):
    """Met while this login session is not locked, from systemd-logind's ``LockedHint``
    and its PropertiesChanged, and from the desktop's screensaver where it says it locks
    (``ActiveChanged``); a gate: a hold lets go while the screen is locked by hand, and
    holds again on unlock."""

    def describe(self) -> str:
        return "the session is unlocked"

    def watcher(self) -> "Watcher":
        _needs_freedesktop("the lock screen is followed through systemd-logind, over D-Bus")
        from .watchers.locked import LockedWatcher

        return LockedWatcher()


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock_time(text: str, end: bool) -> int:
    """Seconds after midnight of ``HH:MM`` or ``HH:MM:SS`` (24:00 only as an end)."""
    parts = text.split(":")
    if not 2 <= len(parts) <= 3 or not all(
        p.isascii() and p.isdigit() and len(p) == 2 for p in parts
    ):
        raise UsageError(f"invalid time {text!r} in hours: give HH:MM or HH:MM:SS")
    hours, minutes, seconds = (int(p) for p in (*parts, "00")[:3])
    if (
        minutes > 59
        or seconds > 59
        or hours > 24
        or (hours == 24 and (minutes or seconds or not end))
    ):
        raise UsageError(f"invalid time {text!r} in hours")
    return hours * 3600 + minutes * 60 + seconds


def hours_range(text: object) -> "tuple[int, int]":
    """``"09:00-17:30"`` as seconds after midnight, start and end (an end at or before
    the start is the next day's: ``"22:00-06:00"``), checked."""
    if not isinstance(text, str) or text.count("-") != 1:
        raise UsageError(f"invalid hours {text!r}: give a range such as 09:00-17:30")
    start, end = text.split("-")
    begin, finish = _clock_time(start.strip(), False), _clock_time(end.strip(), True)
    if begin == finish:
        raise UsageError(f"invalid hours {text!r}: it begins where it ends")
    return begin, finish


def weekdays(text: object) -> "frozenset[int]":
    """``"mon-fri"``, ``"sat,sun"``, ``"mon-wed,fri"`` as weekday numbers (Monday 0)."""
    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"invalid days {text!r}: give days such as mon-fri or sat,sun")
    found: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise UsageError(f"invalid days {text!r}: use {', '.join(DAYS)}, ranges and commas")
        a, b = DAYS.index(first), DAYS.index(last or first)
        found.update(range(a, b + 1) if a <= b else (*range(a, 7), *range(0, b + 1)))
    return frozenset(found)


class Hours(Condition):
    """Met during ``ranges`` (``"09:00-17:30"``; several: any of them; one that ends at or
    before its start runs past midnight) of the local wall clock, on ``days`` (``"mon-fri"``;
    default every day; a range past midnight counts for the day it begins). Followed by a
    timer on the wall clock at the next start or end, which the kernel also fires when the
    clock is set: no polling, right across DST changes, clock steps and a suspend."""

    def __init__(self, *ranges: str, days: "str | None" = None) -> None:
        if not ranges:
            raise UsageError("Hours needs at least one range, such as 09:00-17:30")
        self.texts = tuple(dict.fromkeys(r.strip() for r in ranges if isinstance(r, str)))
        self.ranges = tuple(hours_range(r) for r in ranges)
        self.days_text = days
        self.days = weekdays(days) if days is not None else frozenset(range(7))

    def describe(self) -> str:
        days = f" on {self.days_text}" if self.days_text is not None else ""
        return f"between {' or '.join(self.texts)}{days}"

    def watcher(self) -> "Watcher":
        from .watchers.hours import HoursWatcher

        return HoursWatcher(self)


def _needs_freedesktop(what: str) -> None:
    """ConditionError on macOS and Windows, which have no D-Bus, X11 or Wayland desktop."""
    from .mechanisms import platform_key

    platform = platform_key()
    if platform != "linux":
        from .errors import ConditionError

        raise ConditionError(f"{what}, which {_NAMES.get(platform, platform)} does not have")


_NAMES = {"darwin": "macOS", "win32": "Windows"}


def check(conditions: object) -> "tuple[Condition, ...]":
    """``conditions`` as a tuple of Conditions, or UsageError naming what is not one."""
    if isinstance(conditions, Condition):
        return (conditions,)
    try:
        items: tuple[object, ...] = tuple(conditions)  # type: ignore[arg-type]
    except TypeError:
        raise UsageError(f"conditions must be Condition objects, not {conditions!r}") from None
    for item in items:
        if not isinstance(item, Condition):
            raise UsageError(f"{item!r} is not a Condition (ProcessRunning, MediaPlaying, ...)")
    return items  # type: ignore[return-value]  # each checked above
