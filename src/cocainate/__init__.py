"""Keep the screen and the system awake, and always let go.

>>> import cocainate
>>> with cocainate.inhibit(reason="training run"):
...     train()

Importing this package loads no D-Bus, X11, Wayland or platform code: a session loads the
mechanisms it tries when it starts.
"""

from ._inhibit import inhibit
from ._version import __version__
from .duration import parse_duration
from .errors import (
    CocainateError,
    MechanismError,
    NoMechanismError,
    ProcessNotFoundError,
    SessionError,
    UsageError,
)
from .events import Event
from .mechanisms import Attempt, Blocks, Mode
from .session import Ended, EndReason, Session

__all__ = [
    "Attempt",
    "Blocks",
    "CocainateError",
    "EndReason",
    "Ended",
    "Event",
    "MechanismError",
    "Mode",
    "NoMechanismError",
    "ProcessNotFoundError",
    "Session",
    "SessionError",
    "UsageError",
    "__version__",
    "inhibit",
    "parse_duration",
]
