"""The contract every inhibit mechanism keeps, and the ordered list of them per platform.

(``Attempt`` is a typing.NamedTuple for the type checker only; at run time
``collections.namedtuple`` makes the same tuple: start-up, docs/benchmarks.md.)

Nothing here imports a mechanism's module: :func:`load` does, when a session or the
``methods`` command needs it, so ``import cocainate`` costs no D-Bus or ctypes code.
"""

import enum
import sys
from typing import TYPE_CHECKING, ClassVar, NamedTuple, Optional

from ..errors import MechanismError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from ..bindings.buses import Resources
    from ..bindings.listing import Asker, Listing


class Mode(str, enum.Enum):
    """What a session keeps awake."""

    DISPLAY = "display"
    """The screen stays on: no screensaver, no screen lock, no idle sleep."""
    SYSTEM = "system"
    """Only the system stays awake; the screen may blank and lock."""


class Blocks(str, enum.Enum):
    """What a held mechanism prevents."""

    SCREEN_IDLE = "screen"
    """The screen blanking and locking while nobody uses it."""
    SLEEP = "sleep"
    """The system going to sleep on its own while nobody uses it."""
    SUSPEND = "suspend"
    """A suspend a person asks for (the desktop's Suspend, ``systemctl suspend``, the sleep
    key): only ``--mode system`` blocks it, and only where the service cannot tell the
    two kinds of sleep apart (logind's sleep lock, GNOME's suspend flag)."""
    LID = "lid"
    """What logind does when the lid is closed (its HandleLidSwitch: a suspend, mostly):
    only ``--lid`` asks for it."""


class Mechanism:
    """One way to keep a machine awake.

    Subclasses declare what they are as class attributes and implement :meth:`probe`,
    :meth:`acquire`, :meth:`release` and :meth:`abandon`. Every call they make to the
    outside world is bounded in time. :meth:`release` is idempotent and never raises;
    problems it meets are appended to ``problems``.
    """

    name: "ClassVar[str]"
    """Short name used by ``--method`` and ``methods``."""
    title: str
    """What a person recognises: the D-Bus interface, the extension, the API. An instance
    may say more once it knows the machine (which surface Wayland uses)."""
    blocks: "ClassVar[dict[Mode, frozenset[Blocks]]]"
    """For each mode it serves, what it prevents; a mode missing here is not served."""
    registered: "ClassVar[bool]" = False
    """Whether its server cannot list who holds it (an X server, a Wayland compositor), so
    that a session holding it says so in cocainate's registry, for ``cocainate status``."""
    caveat: "str | None" = None
    """What a person should know of how it holds here, once acquired (a window that takes
    the focus); the CLI says it at start."""
    fallback_for: "ClassVar[Optional[str]]" = None
    """The mechanism this one stands in for: a session tries it only when that one could
    not be held (or when it is named with ``--method``)."""

    def __init__(self, resources: "Resources") -> None:
        self.resources = resources
        self.problems: list[str] = []
        self.report: Callable[[str, str | None], None] = lambda kind, error: None
        """Set by the session: a mechanism calls it with "lost" (and why) when it stops
        holding, and with "reacquired" when it holds again."""

    def probe(self) -> "str | None":
        """Return ``None`` if this mechanism can be used here, else why not."""
        raise NotImplementedError

    def acquire(self, mode: "Mode", reason: str) -> None:
        """Start inhibiting; raise :class:`~cocainate.errors.MechanismError` if it cannot."""
        raise NotImplementedError

    def release(self) -> None:
        """Stop inhibiting. Idempotent, never raises, bounded in time."""
        raise NotImplementedError

    def start_acquire(self, mode: "Mode", reason: str) -> "Callable[[], None] | None":
        """Begin acquiring without waiting for an answer, and return what finishes it
        (raising what :meth:`acquire` raises); a session starts every mechanism that can,
        then finishes them in order, so that they take one round trip between them. None:
        this one cannot begin so; the session calls :meth:`acquire` in its turn."""
        return None

    def start_release(self) -> "Callable[[], None] | None":
        """Begin releasing, without waiting for an answer: what to call to finish (a
        session sends every mechanism's release first, then finishes them, so that they
        take one round trip between them), or None when it is done already."""
        self.release()
        return None

    def abandon(self) -> None:
        """In a child made by ``fork()``: forget what is held without a word to anyone (the
        parent holds it, and releases it); close only this process's own copies."""

    @classmethod
    def inhibitors(cls, ask: "Asker") -> "Listing":
        """What is held through this mechanism on this machine, for ``cocainate status``:
        a few words ("2 held", "not running") and a line each. Calls go through ``ask``,
        which bounds them; what goes wrong is the words. By default, that it cannot say."""
        return "it cannot list who holds it", []

    def fds(self) -> "tuple[int, ...]":
        """File descriptors the session's wait should watch for this mechanism while held
        (a display connection whose server sends events); none by default."""
        return ()

    def on_readable(self, fd: int) -> bool:
        """Handle what arrived on ``fd`` without blocking; False to stop watching it."""
        return False


if TYPE_CHECKING:

    class Attempt(NamedTuple):
        """What happened when a session tried one mechanism."""

        name: str
        title: str
        held: bool
        blocks: "frozenset[Blocks]" = frozenset()
        error: "Optional[str]" = None
        caveat: "Optional[str]" = None  # what a person should know of how it holds here

else:  # the same tuple, made by collections: typing's NamedTuple costs 0.7 M more at start
    from collections import namedtuple

    Attempt = namedtuple(
        "Attempt",
        ("name", "title", "held", "blocks", "error", "caveat"),
        defaults=(frozenset(), None, None),
        module=__name__,
    )
    Attempt.__doc__ = "What happened when a session tried one mechanism."


def screen_blocked(attempts: "Iterable[Attempt]") -> bool:
    """Whether any held mechanism keeps the screen from idling."""
    return any(a.held and Blocks.SCREEN_IDLE in a.blocks for a in attempts)


class Entry:
    """A mechanism known on a platform, importable without loading it."""

    __slots__ = ("asked_by", "name", "sandboxed_only", "target")

    def __init__(
        self, name: str, target: str, sandboxed_only: bool = False, asked_by: "Optional[str]" = None
    ) -> None:
        self.name = name
        self.target = target  # "module:Class", relative to this package
        self.sandboxed_only = sandboxed_only  # tried unnamed only inside a sandbox
        self.asked_by = asked_by  # the option that asks for it: never tried unnamed

    def tried(self) -> "Optional[str]":
        """When a session tries it though it is not named, if not always: for ``methods``."""
        if self.asked_by:
            return f"tried only with {self.asked_by} or --method {self.name}"
        if self.sandboxed_only:
            return f"tried only with --method {self.name} (outside a sandbox)"
        return None

    def __repr__(self) -> str:
        return f"Entry({self.name!r}, {self.target!r})"

    def load(self) -> "type[Mechanism]":
        """Import the mechanism's module; a failure is a MechanismError saying so."""
        # Interned: a name a lookup caches must not be a new string each time (Python
        # 3.10's type attribute cache kept each one, which the leak test counts).
        module_name, _, class_name = map(sys.intern, self.target.partition(":"))
        full_name = f"{__name__}.{module_name}"
        try:
            __import__(full_name)  # not importlib's import_module: start-up
        except ImportError as err:
            raise MechanismError(f"cannot load: {err}") from err
        module = sys.modules[full_name]
        cls: type[Mechanism] = getattr(module, class_name)
        return cls


# The portal first, which is how a sandboxed program holds (elsewhere only when named);
# desktop services next (they know the user's session), then the display server, the
# system-wide lock last.
_LINUX = (
    Entry("portal", "portal:PortalInhibitor", sandboxed_only=True),
    Entry("screensaver", "freedesktop_screensaver:FreedesktopScreenSaver"),
    Entry("gnome-session", "gnome_session:GnomeSessionManager"),
    Entry("power-management", "freedesktop_power:FreedesktopPowerManagement"),
    Entry("x11", "x11:X11ScreenSaver"),
    Entry("wayland", "wayland:WaylandIdleInhibitor"),
    Entry("logind", "logind:LogindInhibitor"),
    Entry("logind-lid", "logind:LogindLidInhibitor", asked_by="--lid"),
)
_PLATFORMS: "dict[str, tuple[Entry, ...]]" = {
    "linux": _LINUX,
    "darwin": (Entry("iokit", "iokit:IOKitAssertion"),),
    "win32": (
        Entry("power-request", "windows:WindowsPowerRequest"),
        Entry("execution-state", "windows:WindowsExecutionState"),
    ),
}


def platform_key(platform: "str | None" = None) -> str:
    platform = platform or sys.platform
    if platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return "linux"
    return platform


def entries(platform: "str | None" = None) -> "tuple[Entry, ...]":
    """The mechanisms of ``platform`` (default: this one), in the order a session tries them."""
    return _PLATFORMS.get(platform_key(platform), ())


def listed(platform: "str | None" = None) -> "tuple[Entry, ...]":
    """Every mechanism of ``platform``, as ``methods`` and ``status`` list them: those a
    session tries unnamed first, in its order, then those it tries only when named."""
    tried = select(None, platform)
    return tried + tuple(entry for entry in entries(platform) if entry not in tried)


def sandboxed() -> bool:
    """Whether this process runs in a Flatpak or Snap sandbox."""
    import os

    return bool(os.environ.get("FLATPAK_ID") or os.environ.get("SNAP")) or os.path.exists(
        "/.flatpak-info"
    )


def select(names: "Sequence[str] | None", platform: "str | None" = None) -> "tuple[Entry, ...]":
    """The entries to try: all of this platform's, or the ``names`` given, in that order."""
    known = entries(platform)
    if not names:
        inside = sandboxed()
        return tuple(
            entry for entry in known if not entry.asked_by and (inside or not entry.sandboxed_only)
        )
    by_name = {entry.name: entry for entry in known}
    chosen: list[Entry] = []
    for name in names:
        entry = by_name.get(name)
        if entry is None:
            valid = ", ".join(by_name) or "none"
            raise UsageError(f"unknown method {name!r} (on this platform: {valid})")
        if entry not in chosen:
            chosen.append(entry)
    return tuple(chosen)
