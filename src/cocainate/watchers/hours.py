"""``Hours``: met during ranges of the local wall clock, on some days.

What it says now is computed from the local time; then one timer is armed on the wall
clock at the next moment that can change it (a range's start or end, on a day it counts),
and nothing wakes until then. The timer is absolute and on the wall clock (a timerfd on
CLOCK_REALTIME on Linux): a suspend cannot make it late, and the kernel also fires it
when the clock is set (TFD_TIMER_CANCEL_ON_SET), so a step by NTP or by hand is seen at
once. Each local time is made with ``mktime``, so a DST change moves the boundaries as the
clock on the wall does. Elsewhere the session's sleep is bounded by the time left.
"""

import time
from typing import TYPE_CHECKING

from ..reactor import Source
from . import Watcher

if TYPE_CHECKING:
    from ..bindings.wallclock import ClockTimer
    from ..conditions import Hours

DAY = 86400


def _at(day: "tuple[int, int, int]", seconds: int) -> float:
    """The timestamp of the local time ``seconds`` after the start of ``day`` (y, m, d):
    past 24 hours, the next day's (``mktime`` carries the hours over, DST and all)."""
    hours, rest = divmod(seconds, 3600)
    return time.mktime((*day, hours, rest // 60, rest % 60, 0, 0, -1))


def spans(hours: "Hours", now: float) -> "list[tuple[float, float]]":
    """The ranges' spans (start, end timestamps) on the days from two before ``now`` to
    eight after, on the days they count."""
    found = []
    for offset in range(-2, 9):
        local = time.localtime(now + offset * DAY)
        if local.tm_wday not in hours.days:
            continue
        day = (local.tm_year, local.tm_mon, local.tm_mday)
        for start, end in hours.ranges:
            finish = end if end > start else end + DAY
            found.append((_at(day, start), _at(day, finish)))
    return found


def look(hours: "Hours", now: float) -> "tuple[bool, float | None]":
    """Whether ``now`` is in a span, and the next moment that can change it."""
    found = spans(hours, now)
    inside = any(start <= now < end for start, end in found)
    later = [t for span in found for t in span if t > now]
    return inside, min(later) if later else None


class HoursWatcher(Watcher):
    def __init__(self, hours: "Hours") -> None:
        super().__init__()
        self.hours = hours
        self.timer: ClockTimer | None = None
        self.next: float | None = None

    def open(self) -> "list[Source]":
        self._look()
        return [_HoursSource(self)]

    def _look(self) -> None:
        from ..bindings.wallclock import REALTIME, ClockTimer

        self.met, self.next = look(self.hours, time.time())
        what = self.hours.describe()
        when = (
            "" if self.next is None else time.strftime(" until %a %H:%M", time.localtime(self.next))
        )
        self.detail = f"{what}{when}" if self.met else f"not {what}{when}"
        self.close()
        if self.next is not None:
            self.timer = ClockTimer(self.next, REALTIME, on_step=True)

    def close(self) -> None:
        timer, self.timer = self.timer, None
        if timer is not None:
            timer.close()


class _HoursSource(Source):
    def __init__(self, watcher: "HoursWatcher") -> None:
        self.watcher = watcher

    def waitable(self) -> "int | None":
        timer = self.watcher.timer
        return None if timer is None else timer.fileno()

    def when(self) -> "float | None":
        timer, at = self.watcher.timer, self.watcher.next
        if timer is None or at is None or timer.fileno() is not None:
            return None
        return time.monotonic() + (at - time.time())  # no timerfd: the clock read at each wake

    def fire(self) -> bool:
        timer = self.watcher.timer
        if timer is not None and timer.fired():
            self.watcher._look()
        return True

    def close(self) -> None:
        self.watcher.close()
