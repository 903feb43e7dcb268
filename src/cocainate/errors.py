"""The library's exceptions: one base, a few subclasses."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .mechanisms import Attempt


class CocainateError(Exception):
    """Base of every error cocainate raises on purpose."""


class UsageError(CocainateError, ValueError):
    """An argument is wrong: a bad duration, PID, mode or mechanism name."""


class ProcessNotFoundError(UsageError):
    """A process to watch does not exist."""

    def __init__(self, pid: int) -> None:
        super().__init__(f"no process with PID {pid}")
        self.pid = pid


class SessionError(CocainateError, RuntimeError):
    """The session was used out of order (started twice, signals off the main thread...)."""


class MechanismError(CocainateError):
    """One mechanism could not be acquired; the message says why, for a person."""


class ConditionError(CocainateError):
    """A condition cannot be watched here (no UPower, no EWMH window manager...); the
    message says why, for a person."""


class NoMechanismError(CocainateError):
    """No mechanism could be acquired; ``attempts`` says what was tried and why it failed."""

    def __init__(self, attempts: "Sequence[Attempt]") -> None:
        if attempts:
            lines = "".join(f"\n  {a.name}: {a.error}" for a in attempts)
            message = f"nothing could keep this machine awake:{lines}"
        else:
            message = "no inhibit mechanism exists for this mode on this platform"
        super().__init__(message)
        self.attempts = tuple(attempts)
