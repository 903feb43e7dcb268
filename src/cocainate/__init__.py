"""Keep the screen and the system awake, and always let go.

>>> import cocainate
>>> with cocainate.inhibit(reason="training run"):
...     train()

Importing this package loads no D-Bus, X11, Wayland or platform code, and only what a name
needs when it is first used: a session loads the mechanisms it tries when it starts.
"""

__version__ = "0.1.0"  # the one version source (pyproject.toml reads it)

TYPE_CHECKING = False  # not typing's: importing typing here widens the window before main()
if TYPE_CHECKING:
    from typing import Any

    from .conditions import (
        AudioPlaying,
        Condition,
        Fullscreen,
        Hours,
        MediaPlaying,
        MinBattery,
        NotLocked,
        OnACPower,
        ProcessRunning,
        RemoteLogin,
    )
    from .core.ending import Ended, EndReason
    from .core.events import Event
    from .core.inhibit import inhibit
    from .core.remote import RemoteSession, find_sessions
    from .core.session import Session
    from .duration import parse_duration
    from .errors import (
        CocainateError,
        ConditionError,
        MechanismError,
        NoMechanismError,
        ProcessNotFoundError,
        SessionError,
        UsageError,
    )
    from .mechanisms import Attempt, Blocks, Mode

_HOMES = {
    "inhibit": ".core.inhibit",
    "parse_duration": ".duration",
    "CocainateError": ".errors",
    "ConditionError": ".errors",
    "Condition": ".conditions",
    "ProcessRunning": ".conditions",
    "MediaPlaying": ".conditions",
    "AudioPlaying": ".conditions",
    "Fullscreen": ".conditions",
    "OnACPower": ".conditions",
    "Hours": ".conditions",
    "RemoteLogin": ".conditions",
    "NotLocked": ".conditions",
    "MinBattery": ".conditions",
    "MechanismError": ".errors",
    "NoMechanismError": ".errors",
    "ProcessNotFoundError": ".errors",
    "SessionError": ".errors",
    "UsageError": ".errors",
    "Event": ".core.events",
    "Attempt": ".mechanisms",
    "Blocks": ".mechanisms",
    "Mode": ".mechanisms",
    "Ended": ".core.ending",
    "EndReason": ".core.ending",
    "Session": ".core.session",
    "find_sessions": ".core.remote",
    "RemoteSession": ".core.remote",
}


def __getattr__(name: str) -> "Any":
    # Lazy, so that `import cocainate` is nearly free and the CLI's entry point can catch
    # a Ctrl-C that arrives while the rest loads.
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'cocainate' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> "list[str]":
    return sorted({*globals(), *_HOMES})


__all__ = [
    "Attempt",
    "AudioPlaying",
    "Blocks",
    "CocainateError",
    "Condition",
    "ConditionError",
    "EndReason",
    "Ended",
    "Event",
    "Fullscreen",
    "Hours",
    "MechanismError",
    "MediaPlaying",
    "MinBattery",
    "Mode",
    "NoMechanismError",
    "NotLocked",
    "OnACPower",
    "ProcessNotFoundError",
    "ProcessRunning",
    "RemoteLogin",
    "RemoteSession",
    "Session",
    "SessionError",
    "UsageError",
    "__version__",
    "find_sessions",
    "inhibit",
    "parse_duration",
]
