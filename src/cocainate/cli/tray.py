"""``cocainate tray``: a tray icon that holds when asked, until asked to let go.

The icon (a StatusNotifierItem, :mod:`cocainate.bindings.tray`) shows whether a hold is
in place and until when; a click toggles; its menu holds for 15 minutes, an hour, four
hours or until turned off, lets go, or quits. Each hold is a :class:`~cocainate.Session`
whose ``wait()`` runs in a thread of its own; the main thread serves the bus and sleeps in
``select`` on the bus connection and a wake-up pipe (the signals' and the hold's end's),
and nothing else: no timer of its own, no polling. SIGINT, SIGTERM and SIGHUP quit; the
hold is let go first; SIGUSR1 toggles, as a click does.
"""

import os
import selectors
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

from ..errors import CocainateError, MechanismError
from .say import error, out

if TYPE_CHECKING:
    from ..bindings.tray import State
    from ..core.session import Session

CHOICES: "tuple[tuple[int, str, float | None], ...]" = (
    (1, "Hold for 15 minutes", 900.0),
    (2, "Hold for 1 hour", 3600.0),
    (3, "Hold for 4 hours", 14400.0),
    (4, "Hold until turned off", None),
)
LET_GO, QUIT = 6, 8


class TrayProgram:
    def __init__(self, session_args: "dict[str, Any]", quiet: bool) -> None:
        self.session_args, self.quiet = session_args, quiet
        self.session: Session | None = None
        self.thread: threading.Thread | None = None
        self.until: float | None = None  # wall-clock end of the hold, if it has one
        self.note = ""  # why the last hold could not be made, for the tooltip
        self.quitting = False
        self.toggle_asked = False  # SIGUSR1: toggled by the loop, not in the handler
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self.write_fd, False)

    # -- holds ----------------------------------------------------------------------------

    def hold(self, seconds: "float | None") -> None:
        import cocainate

        self.let_go()
        args = dict(self.session_args, duration=seconds, handle_signals=False)
        try:
            session = cocainate.Session(**args).start()
        except CocainateError as err:
            self.note = str(err).splitlines()[0]
            self.say(f"could not hold: {self.note}")
            return
        self.note = ""
        self.session = session
        self.until = None if seconds is None else time.time() + seconds
        self.thread = threading.Thread(target=self._wait, args=(session,), daemon=True)
        self.thread.start()
        self.say(f"holding ({', '.join(session.holding)}){self._until_words()}")

    def _wait(self, session: "Session") -> None:
        try:
            session.wait()
        except CocainateError as err:  # said, not a thread's traceback
            self.note = str(err).splitlines()[0]
        finally:
            self.wake()  # the main loop sees the hold gone and shows it

    def let_go(self) -> None:
        session, thread = self.session, self.thread
        self.session = self.thread = None
        self.until = None
        if session is not None:
            session.stop()
        if thread is not None:
            thread.join(5)

    def holding(self) -> bool:
        return self.session is not None and bool(self.session.holding)

    def toggle(self) -> None:
        if self.session is not None:
            self.let_go()
            self.say("let go")
        else:
            self.hold(None)

    def clicked(self, item: int) -> None:
        for number, _label, seconds in CHOICES:
            if item == number:
                self.hold(seconds)
        if item == LET_GO and self.session is not None:
            self.let_go()
            self.say("let go")
        elif item == QUIT:
            self.quitting = True

    # -- what the icon shows --------------------------------------------------------------

    def _until_words(self) -> str:
        if self.until is None:
            return " until turned off"
        return time.strftime(" until %H:%M", time.localtime(self.until))

    def state(self) -> "State":
        from ..bindings.tray import Item, State

        held = self.holding()
        if held:
            assert self.session is not None
            what = "the system" if self.session_args.get("mode") == "system" else "the display"
            names = ", ".join(self.session.holding)
            tip = f"keeping {what} awake{self._until_words()} ({names})"
        else:
            tip = "not holding" + (f": {self.note}" if self.note else "")
        menu = [Item(label, checked=None) for _n, label, _s in CHOICES]
        menu += [Item(separator=True), Item("Let go", enabled=held), Item(separator=True)]
        menu.append(Item("Quit"))
        return State(active=held, title="cocainate", tooltip=tip, menu=menu)

    def say(self, line: str) -> None:
        if not self.quiet:
            out(f"cocainate tray: {line}")

    def wake(self) -> None:
        try:
            os.write(self.write_fd, b"\0")
        except OSError:
            pass  # full: a wake-up is pending anyway

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> int:
        from ..bindings.icon import Icon

        try:
            icon = Icon(self.toggle, self.clicked, self.state(), self.say)
        except (MechanismError, OSError) as err:
            error(f"tray: {err}")
            return 3
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        for signum in previous:
            signal.signal(signum, lambda *_: self._quit())
        if hasattr(signal, "SIGUSR1"):  # as for a hold: SIGUSR1 toggles
            previous[signal.SIGUSR1] = signal.getsignal(signal.SIGUSR1)
            signal.signal(signal.SIGUSR1, lambda *_: setattr(self, "toggle_asked", True))
        old_wakeup = signal.set_wakeup_fd(self.write_fd)
        selector = selectors.DefaultSelector()
        selector.register(icon.connection.sock, selectors.EVENT_READ)
        selector.register(self.read_fd, selectors.EVENT_READ)
        try:
            while not self.quitting:
                icon.answer()
                if self.toggle_asked:
                    self.toggle_asked = False
                    self.toggle()
                icon.show(self.state())
                if self.quitting:
                    break
                for key, _events in selector.select():
                    if key.fileobj == self.read_fd:
                        self._drain()
                    else:
                        icon.read()
                if self.session is not None and not self.session.holding:
                    self.say("the hold ended")  # its duration passed, or nothing holds
                    self.let_go()
        except (OSError, EOFError, ValueError) as err:
            error(f"tray: lost the session bus: {err}")
            return 1
        finally:
            self.let_go()
            selector.close()
            signal.set_wakeup_fd(old_wakeup)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            icon.close()
            os.close(self.read_fd)
            os.close(self.write_fd)
        self.say("quit")
        return 0

    def _quit(self) -> None:
        self.quitting = True

    def _drain(self) -> None:
        try:
            while os.read(self.read_fd, 512):
                pass
        except BlockingIOError:
            pass


def available() -> "str | None":
    """Why no tray icon can be shown here (no D-Bus: macOS, Windows), or None."""
    try:
        import jeepney  # noqa: F401  (the tray speaks D-Bus through it)
    except ImportError:
        return "a tray icon needs D-Bus (StatusNotifierItem), which this platform does not have"
    return None


def tray(session_args: "dict[str, Any]", quiet: bool) -> int:
    """Run the tray with these Session arguments for each hold (its options': mode, reason,
    methods); each hold's duration is what the menu says."""
    held = {key: session_args[key] for key in ("mode", "reason", "methods")}
    return TrayProgram(held, quiet).run()


class HoldIcon:
    """``--tray`` (``tray = true`` in watch's config): an icon for a running hold, served
    by the session's own loop (``Session.watch``): no thread, no timer. A click, or its
    menu's first entry, pauses and resumes the hold; each condition's entry pauses and
    resumes that condition alone; Quit ends it."""

    PAUSE = 1  # then a separator, a checkmark per condition and a separator, then Quit

    def __init__(self, session: "Session") -> None:
        from ..bindings.icon import Icon

        self.session = session
        self.icon: Icon | None = Icon(self.toggle, self.clicked, self.state(), lambda _: None)

    def toggle(self) -> None:
        (self.session.resume if self.session.paused else self.session.pause)()

    def clicked(self, item: int) -> None:
        conditions = self.session.conditions
        if item == self.PAUSE:
            self.toggle()
        elif 3 <= item < 3 + len(conditions):  # a condition's checkmark
            condition = conditions[item - 3]
            on = condition not in self.session.paused_conditions
            (self.session.pause if on else self.session.resume)(condition)
        elif item == len(self.state().menu):  # Quit, the last
            self.session.stop()

    def state(self) -> "State":
        from ..bindings.tray import Item, State

        session = self.session
        if session.paused:
            tip = "paused"
        elif session.holding:
            tip = f"holding ({', '.join(session.holding)})"
            if session.conditions_now:
                tip += f": {session.conditions_now}"
        else:
            tip = f"waiting: {session.conditions_now or session.describe_conditions()}"
        menu = [Item("Resume" if session.paused else "Pause"), Item(separator=True)]
        paused = session.paused_conditions
        menu += [Item(c.describe(), checked=c not in paused) for c in session.conditions]
        if session.conditions:
            menu.append(Item(separator=True))
        menu.append(Item("Quit"))
        return State(active=bool(session.holding), tooltip=tip, menu=menu)

    def refresh(self) -> None:
        """Show the session as it is now (after each of its events)."""
        if self.icon is not None:
            self.icon.show(self.state())

    # -- what Session.watch calls -----------------------------------------------------------

    def fileno(self) -> "int | None":
        return None if self.icon is None else self.icon.fileno()

    def on_readable(self, fd: int) -> bool:
        if self.icon is None:
            return False
        try:
            self.icon.read()
        except (OSError, EOFError, ValueError):
            self.close()  # the session bus went: the hold goes on without its icon
            return False
        self.refresh()
        return True

    def close(self) -> None:
        icon, self.icon = self.icon, None
        if icon is not None:
            icon.close()
