"""A running session on the session bus (:meth:`Session.publish`): its state as the
control interface's properties, its methods carried out on the session, served by the
session's own loop (a source of its reactor: no thread, and nothing read while nobody
calls) and closed with the session's release, after everything is let go."""

import os
import time
from typing import TYPE_CHECKING, Any

from ..reactor import Source

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..bindings.control import Properties
    from .running import Run
    from .session import Session


class Published(Source):
    runs_user_code = True  # its calls take the reactor's lock (a new end) and the session's

    def __init__(self, session: "Session", run: "Run", kind: str) -> None:
        from ..bindings.control import Server

        self.session, self.run, self.kind = session, run, kind
        held_at = session.held_at if session.held_at is not None else time.monotonic()
        self.since = time.time() - (time.monotonic() - held_at)
        self.server: Server | None = Server(self, os.getpid())  # MechanismError: no bus
        self.name = self.server.name

    def properties(self) -> "Properties":
        session = self.session
        return {
            "Pid": ("u", os.getpid()),
            "Kind": ("s", self.kind),
            "State": ("s", session.state),
            "Paused": ("b", session.paused),
            "Holding": ("as", list(session.holding)),
            "Mode": ("s", session.mode.value),
            "Reason": ("s", session.reason),
            "Why": ("s", session.conditions_now),
            "Since": ("d", self.since),
            "Until": ("d", session.ends_at or 0.0),
            "Conditions": ("a(sbbs)", list(session.condition_states)),
        }

    def command(self, member: str, body: "tuple[Any, ...]") -> "tuple[str | None, tuple[Any, ...]]":
        session = self.session
        if not session.active:
            from ..bindings.control import Refused

            raise Refused("the session is ending")
        if member == "Toggle":
            (session.resume if session.paused else session.pause)()
            return "b", (session.paused,)
        if member == "Pause":
            session.pause()
        elif member == "Resume":
            session.resume()
        elif member == "Stop":
            self.run.end("stopped")  # this loop lets go at its next step, at once
        elif member == "Extend":
            session.extend(body[0])
        elif member == "EndAt":
            session.end_at(body[0] or None)
        return None, ()

    def changed(self) -> None:
        """Say what changed (after each step of the session's loop)."""
        if self.server is not None:
            self._guarded(self.server.changed)

    # -- a source of the session's reactor ----------------------------------------------------

    def waitable(self) -> "int | None":
        return None if self.server is None else self.server.fileno()

    def fire(self) -> bool:
        return self.server is not None and self._guarded(self.server.read)

    def _guarded(self, work: "Callable[[], None]") -> bool:
        """Do ``work``; if the bus broke, or a bug of ours raised, the hold goes on without
        its interface (a bug is said, as one of the session's problems)."""
        try:
            work()
        except (OSError, EOFError, ValueError):
            self.close()  # the session bus went: the hold goes on, unreachable
            return False
        except Exception as err:
            self.close()
            what = f"{type(err).__name__}: {err}"
            self.session.problems.append(f"the control interface stopped: {what} (a bug)")
            return False
        return True

    def close(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.close()
