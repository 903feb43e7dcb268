"""What a session holds: the acquisition policy, lost and re-acquired, the grace period.

Policy: try every mechanism that serves the mode (or those named), in the platform's
order, and hold every one that can be acquired; fail only when none can. While holding,
a mechanism may lose its hold (its service left, its display server went away) and get
it back (healing); when every one has been lost and none comes back within
:data:`LOST_GRACE` seconds, the session ends rather than pretend to hold.
"""

import time
from typing import TYPE_CHECKING, Any, Callable

from ..errors import MechanismError, NoMechanismError
from ..mechanisms import Attempt
from ..reactor import Source, Timer

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..bindings.buses import Resources
    from ..bindings.registry import Record
    from ..mechanisms import Entry, Mechanism, Mode
    from ..reactor import Reactor

LOST_GRACE = 5.0
"""Seconds a session goes on holding nothing (every mechanism lost, none re-acquired)
before it ends with :attr:`EndReason.LOST`."""

Emit = Callable[..., None]


class Holdings:
    def __init__(
        self,
        entries: "Sequence[Entry]",
        named: "Sequence[str]",
        mode: "Mode",
        reason: str,
        emit: "Emit",
        on_all_lost: "Callable[[], None]",
    ) -> None:
        self._entries, self._named = entries, named
        self.mode, self.reason = mode, reason
        self._emit = emit
        self.attempts: tuple[Attempt, ...] = ()
        self.held: list[Mechanism] = []
        self.lost: set[str] = set()
        self.problems: list[str] = []
        self._resources: Resources | None = None
        self._grace = Timer(None, on_all_lost)
        self._record: Record | None = None
        self._sources: list[Source] = []

    @property
    def holding(self) -> "tuple[str, ...]":
        return tuple(m.name for m in self.held if m.name not in self.lost)

    def acquire(self, stopping: "Callable[[], bool]") -> None:
        """Acquire what can be; raise NoMechanismError holding nothing when nothing can.
        Every mechanism that can begin without waiting (the D-Bus ones) is begun first, then
        each is finished or acquired in the platform's order. Stops early (holding what it
        has) once ``stopping()`` says so; what was begun is finished all the same, so that
        the release finds it."""
        from ..bindings.buses import Resources

        self._resources = resources = Resources()
        attempts: list[Attempt] = []
        # entry, its class (or why it could not be loaded), the mechanism begun, and what
        # finishes it (or the error beginning it raised)
        tries: list[tuple[Entry, type[Mechanism] | str, Mechanism | None, Any]] = []
        for entry in self._entries:
            try:
                loaded: type[Mechanism] = entry.load()
            except MechanismError as err:
                tries.append((entry, str(err), None, None))
                continue
            begun: Mechanism | None = None
            finish: Callable[[], None] | Exception | None = None
            if loaded.fallback_for is None and self.mode in loaded.blocks:
                begun = loaded(resources)
                begun.report = self._reporter(begun)
                try:
                    finish = begun.start_acquire(self.mode, self.reason)
                except Exception as err:  # said in its turn, below
                    finish = err
            tries.append((entry, loaded, begun, finish))
        for entry, cls, mechanism, finish in tries:
            if isinstance(cls, str):
                attempts.append(Attempt(entry.name, entry.name, False, error=cls))
                continue
            if stopping() and finish is None:
                continue  # not begun: not begun now either
            backs = cls.fallback_for
            if backs and entry.name not in self._named and any(m.name == backs for m in self.held):
                continue  # a fallback, and what it stands in for holds
            blocks = cls.blocks.get(self.mode)
            if blocks is None:
                if entry.name in self._named:
                    error = f"does not serve --mode {self.mode.value}"
                    attempts.append(Attempt(cls.name, cls.title, False, error=error))
                continue
            if mechanism is None:
                mechanism = cls(resources)
                mechanism.report = self._reporter(mechanism)
            try:
                if isinstance(finish, Exception):
                    raise finish
                if finish is not None:
                    finish()
                else:
                    mechanism.acquire(self.mode, self.reason)
            except MechanismError as err:
                mechanism.release()
                attempts.append(Attempt(cls.name, cls.title, False, error=str(err)))
                continue
            except Exception as err:  # a mechanism's bug: reported, and the others still run
                mechanism.release()
                error = f"unexpected {type(err).__name__}: {err} (a bug in cocainate)"
                attempts.append(Attempt(cls.name, cls.title, False, error=error))
                continue
            except BaseException:
                mechanism.release()
                raise
            self.held.append(mechanism)
            attempts.append(
                Attempt(cls.name, mechanism.title, True, blocks=blocks, caveat=mechanism.caveat)
            )
        self.attempts = tuple(attempts)
        if not self.held and not stopping():
            raise NoMechanismError(attempts)
        if any(m.registered for m in self.held):
            from ..bindings.registry import Record

            self._record = Record.create(self.holding, self.mode.value, self.reason)

    def sources(self) -> "list[Source]":
        """What the reactor must watch for the holdings."""
        from .sources import BusSource, MechanismSource

        out: list[Source] = [MechanismSource(m, self._lost) for m in self.held]
        if self._resources is not None:
            out += [BusSource(self._resources, kind) for kind in ("session", "system")]
        out.append(self._grace)
        return out

    def attach(self, reactor: "Reactor") -> None:
        self._sources = self.sources()
        for source in self._sources:
            reactor.add(source)
        if self._resources is not None:
            self._resources.route()

    def detach(self, reactor: "Reactor") -> None:
        """Take this hold's sources out of the reactor (a session that goes on waiting)."""
        sources, self._sources = self._sources, []
        for source in sources:
            reactor.remove(source)

    def _lost(self, mechanism: "Mechanism") -> None:
        """A held mechanism's connection ended: its hold with it."""
        problems = mechanism.problems
        self.report(mechanism, "lost", problems[-1] if problems else None)

    def _reporter(self, mechanism: "Mechanism") -> "Callable[[str, str | None], None]":
        return lambda kind, error: self.report(mechanism, kind, error)

    def report(self, mechanism: "Mechanism", kind: str, error: "str | None") -> None:
        """A mechanism lost its hold ("lost") or got it back ("reacquired")."""
        if kind == "lost":
            self.lost.add(mechanism.name)
            if not self.holding and self._grace.at is None:
                self._grace.at = time.monotonic() + LOST_GRACE
        else:
            self.lost.discard(mechanism.name)
            self._grace.at = None
        if self._record is not None:
            self._record.update(self.holding)
        self._emit(kind, (mechanism.name,), error=error)

    def release(self) -> None:
        """Let go of everything, in reverse order; then close the bus connections (which
        drops, on every real daemon, whatever a failed UnInhibit left), or give them back
        for the next hold when nothing can be left."""
        held, self.held = self.held, []
        # Every release sent first, then every answer read: one round trip between them.
        finishing = [mechanism.start_release() for mechanism in reversed(held)]
        for finish in finishing:
            if finish is not None:
                finish()
        for mechanism in reversed(held):
            self.problems.extend(mechanism.problems)
        if self._resources is not None:
            # Kept for the next hold unless a mechanism said something may be left that
            # only closing gives back (Resources.taint).
            self._resources.close(keep=True)
        record, self._record = self._record, None
        if record is not None:
            record.remove()

    def abandon(self) -> None:
        """In a child made by fork(): forget everything without a word (the parent holds)."""
        held, self.held = self.held, []
        for mechanism in held:
            mechanism.abandon()
        self._record = None  # the parent's file: the parent removes it
        if self._resources is not None:
            self._resources.close()  # closes this process's copies of the sockets only
