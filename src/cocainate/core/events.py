"""What a session reports as it goes: the same events the CLI prints with ``--json``."""

from typing import Any, NamedTuple, Optional

from .ending import Ended

KINDS = ("acquired", "waiting", "lost", "reacquired", "ended", "released")


class Event(NamedTuple):
    """One thing that happened to a session.

    ``kind`` is one of :data:`KINDS`: ``"acquired"`` (``mechanisms`` hold), ``"waiting"``
    (a session with conditions holds nothing until one is met), ``"lost"`` (a
    mechanism stopped holding, or, with ``condition`` and no ``mechanisms``, what a
    condition follows went away; ``error`` says why), ``"reacquired"`` (a lost mechanism
    holds again), ``"ended"`` (``ended`` says why) or ``"released"`` (everything let go;
    ``problems`` lists what went wrong on the way). With conditions, ``condition`` says
    what made a session hold (``acquired``), let go (``released``) or what it waits for
    (``waiting``).
    """

    kind: str
    time: float
    mechanisms: tuple[str, ...] = ()
    ended: Optional[Ended] = None  # real types, not strings: see mechanisms/__init__.py
    error: Optional[str] = None
    problems: tuple[str, ...] = ()
    condition: Optional[str] = None

    def as_dict(self) -> "dict[str, Any]":
        """A JSON-ready dict: ``{"event": "acquired", "time": ..., "mechanisms": [...]}``."""
        out: dict[str, Any] = {"event": self.kind, "time": round(self.time, 6)}
        if self.mechanisms:
            out["mechanisms"] = list(self.mechanisms)
        if self.ended is not None:
            out["reason"] = self.ended.reason.value
            if self.ended.signal is not None:
                import signal

                out["signal"] = signal.Signals(self.ended.signal).name
            if self.ended.pid is not None:
                out["pid"] = self.ended.pid
        if self.error is not None:
            out["error"] = self.error
        if self.condition is not None:
            out["condition"] = self.condition
        if self.kind == "released":
            out["problems"] = list(self.problems)
        return out
