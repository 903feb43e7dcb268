"""The conditions a session follows and the gates every hold needs: their watchers,
whether they call for a hold now, in words why, and how soon the session may change
again."""

import time
from typing import TYPE_CHECKING, Callable

from ..reactor import Timer

if TYPE_CHECKING:
    from ..conditions import Condition
    from ..reactor import Reactor
    from ..watchers import Watcher

SWITCH_SPACING = 1.0
"""Seconds between two changes of a session with conditions (a hold made, a hold let
go), at least: a condition that flips many times a second costs the desktop at most one
hold and one release a second, and what holds follows the last word within this."""


class Following:
    def __init__(
        self,
        conditions: "tuple[Condition, ...]",
        gates: "tuple[Condition, ...]",
        linger: float = 0.0,
    ) -> None:
        self.conditions, self.gates, self.linger = conditions, gates, linger
        self._unmet_since: float | None = None  # time.monotonic() the conditions fell silent
        self._linger_end = Timer(None, lambda: None)  # wakes the session when a linger ends
        self.watchers: list[Watcher] = []
        self.gate_watchers: list[Watcher] = []  # what every hold also needs (mains power...)
        self._changed_at = -SWITCH_SPACING  # time.monotonic() of the last hold or release
        self._next_change = Timer(None, lambda: None)  # wakes the session when it may
        self.paused = False  # asked to let go (pause()) whatever the conditions say
        self.steered = False  # pause() or resume() was asked: followed even without conditions
        self.off: set[int] = set()  # conditions paused alone: followed, but calling for nothing

    def steer(self, paused: bool, index: "int | None" = None) -> None:
        """Pause or resume the session, or its condition ``index``, as asked: at the
        session's next step, not after the spacing. Safe in a signal handler (it only sets
        attributes)."""
        if index is None:
            self.paused, self.steered = paused, True
        else:
            (self.off.add if paused else self.off.discard)(index)
        self._changed_at = -SWITCH_SPACING

    def index(self, condition: "Condition | None") -> "int | None":
        """Where ``condition`` is among the session's (None for the session itself)."""
        if condition is None:
            return None
        if condition not in self.conditions:
            from ..errors import UsageError

            raise UsageError(f"{condition.describe()!r} is not one of this session's conditions")
        return self.conditions.index(condition)

    def _on(self) -> "list[Watcher]":
        return [w for i, w in enumerate(self.watchers) if i not in self.off]

    @property
    def any(self) -> bool:
        """Whether there is anything to follow."""
        return bool(self.conditions or self.gates)

    def describe(self) -> str:
        """What the session waits for, as a person says it ("" without conditions)."""
        text = " or ".join(c.describe() for c in self.conditions)
        gated = ", ".join(g.describe() for g in self.gates)
        return ", ".join(t for t in (text, gated) if t)

    def open(
        self,
        reactor: "Reactor",
        lost: "Callable[[str], Callable[[str, bool], None]]",
        failed: "Callable[[str], None]",
    ) -> None:
        """Open each watcher (bounded; ConditionError when it cannot be) and add its sources
        to ``reactor``. ``lost(condition)`` makes the call a watcher makes when it loses what
        it follows; ``failed(why)`` is told of a watcher's bug."""
        from .sources import WatcherSource

        reactor.add(self._next_change)
        reactor.add(self._linger_end)
        self.gate_watchers = [g.watcher() for g in self.gates]
        self.watchers = [c.watcher() for c in self.conditions]
        described = [c.describe() for c in (*self.conditions, *self.gates)]
        for watcher, what in zip((*self.watchers, *self.gate_watchers), described):
            watcher.report = lost(what)
            for source in watcher.open():
                reactor.add(WatcherSource(watcher, source, failed))

    def wanted(self) -> bool:
        """Whether the conditions call for a hold now (always, without conditions), and
        the session is not paused."""
        if self.paused or not all(g.met for g in self.gate_watchers):
            return False
        return not self.watchers or any(w.met for w in self._on())

    def lingers(self, holding: bool) -> bool:
        """Whether a hold the conditions no longer call for is kept a while yet: they have
        been unmet for less than :attr:`linger` seconds (a track change, a pause between
        videos), while nothing else says to let go (not paused, every gate open). Called at
        each step, so it also sees the conditions met again; wakes the session when the
        linger ends, and only while ``holding``."""
        if (
            not holding
            or not self.linger
            or not self.watchers
            or self.paused
            or not all(g.met for g in self.gate_watchers)
            or any(w.met for w in self._on())
        ):
            self._unmet_since = self._linger_end.at = None
            return False
        now = time.monotonic()
        if self._unmet_since is None:
            self._unmet_since = now
        end = self._unmet_since + self.linger
        self._linger_end.at = end if now < end else None
        return now < end

    def may_change(self) -> bool:
        """Whether the session may change now; if not, it is woken when it may."""
        now = time.monotonic()
        if now < self._changed_at + SWITCH_SPACING:
            self._next_change.at = self._changed_at + SWITCH_SPACING
            return False
        self._changed_at = now
        return True

    def why_holding(self) -> "str | None":
        if not self.any:
            return "resumed" if self.steered else None
        why = [w.detail for w in self._on() if w.met][:1]
        why += [g.detail for g in self.gate_watchers]
        return ", ".join(why)

    def why_not(self) -> str:
        if self.paused:
            return "paused"
        for gate in self.gate_watchers:
            if not gate.met:
                return gate.detail
        paused = [f"{w.detail} (paused)" for i, w in enumerate(self.watchers) if i in self.off]
        return ", ".join([w.detail for w in self._on()] + paused)

    def now(self, holding: bool) -> str:
        """What the conditions say now: why it holds, or why it waits."""
        if not self.any or not (self.watchers or self.gate_watchers):
            return ""
        return (self.why_holding() if holding else self.why_not()) or ""

    def states(self) -> "list[tuple[str, bool, bool, str]]":
        """Each condition, then each gate: what it is, whether it is met, whether it is on
        (not paused alone), and why, in a few words ("" before the start)."""
        found = []
        for i, condition in enumerate((*self.conditions, *self.gates)):
            gate = i >= len(self.conditions)
            watchers = self.gate_watchers if gate else self.watchers
            at = i - len(self.conditions) if gate else i
            watcher = watchers[at] if at < len(watchers) else None
            met = watcher is not None and watcher.met
            detail = watcher.detail if watcher is not None else ""
            found.append((condition.describe(), met, gate or i not in self.off, detail))
        return found

    def close(self) -> None:
        """Close every watcher (once no dispatch can call them)."""
        for watcher in (*self.watchers, *self.gate_watchers):
            watcher.close()
