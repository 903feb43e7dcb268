"""Running the command line: a session that holds, or a subcommand."""

import sys
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import CocainateError, MechanismError, NoMechanismError, SessionError, UsageError
from ..mechanisms import Mode
from .options import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_LOST,
    EXIT_NO_MECHANISM,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
)
from .say import (
    Said,
    announce,
    err,
    error,
    json_dropped,
    out,
    printable,
    report_attempts,
    say_failure,
    until_text_of,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..core.ending import Ended
    from ..core.session import Session


def main(argv: "Sequence[str] | None" = None) -> int:
    from .say import finish

    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Only before a session handles signals, or after it let go: nothing is held.
        return EXIT_INTERRUPTED
    finally:
        _resume_gc()  # if no hold did: a subcommand, an error
        finish()


def _main(argv: "Sequence[str] | None") -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:  # cocainate [options] -- COMMAND [ARGS...]
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1 :]
        if not command:
            error("no command after '--' (see 'cocainate --help')")
            return EXIT_USAGE
    from .options import fast_parse

    args: Any = fast_parse(argv)
    if args is None:
        from .parsing import parse

        args = parse(argv)
    if args.command is not None:
        ignored = _ignored_by(args)
        if ignored:
            error(f"'{args.command}' takes no {ignored} (see 'cocainate {args.command} --help')")
            return EXIT_USAGE
    if args.command == "version" or args.version:
        return _version(args.verbose)
    if args.command == "methods":
        from .status import show_methods

        return show_methods()
    if args.command in CONTROL:
        from .control import control

        return control(args, hold)
    if args.command == "watch":
        from .watch import watch

        found = watch(args)
        return found if isinstance(found, int) else hold(found, [])
    if args.command == "tray" or args.tray:
        from .tray import available

        problem = available()
        if problem is not None:
            error(problem)
            return EXIT_NO_MECHANISM
    if args.command == "tray":
        from .tray import tray

        return tray(session_arguments(args), args.quiet)
    if args.command == "completion":
        from .completion import script

        out(script(args.shell).rstrip("\n"))
        return EXIT_OK
    if command and args.command:
        error(f"'{args.command}' takes no command after '--'")
        return EXIT_USAGE
    return hold(args, command)


CONTROL = ("status", "toggle", "on", "off", "pause", "resume", "extend", "stop")
"""The subcommands that act on running sessions (:mod:`.control`)."""


def _ignored_by(args: "Any") -> "str | None":
    """The first option given that the chosen subcommand does not take, or None."""
    from .options import OPTIONS, SUBCOMMANDS, defaults

    (sub,) = [s for s in SUBCOMMANDS if s.name == args.command]
    own = {o.dest for o in sub.options}
    unset = defaults()
    for option in OPTIONS:
        if option.dest not in own and getattr(args, option.dest) != unset[option.dest]:
            return option.flags[-1]
    return None


def _version(verbose: bool) -> int:
    out(f"{PROG} {__version__}")
    if verbose:
        import platform

        out(f"Python {platform.python_version()} ({sys.executable})")
        out(f"Platform {platform.platform()}")
        from .status import probes

        usable = [row[0] for row in probes() if row[3] is None]
        out(f"Mechanisms usable here: {', '.join(usable) or 'none'}")
    return EXIT_OK


def session_arguments(args: "Any") -> "dict[str, Any]":
    """The ``Session`` arguments the options become, as the option table says."""
    from .options import OPTIONS

    found: dict[str, Any] = {}
    found["conditions"], found["gates"] = conditions(args)
    for option in OPTIONS:
        if option.session is not None and option.session not in ("conditions", "gates"):
            found[option.session] = getattr(args, option.dest)
    if found["until"] is not None:
        from ..duration import parse_until

        found["until"] = parse_until(found["until"])  # checked already, as it was given
    return found


def conditions(args: "Any") -> "tuple[list[Any], list[Any]]":
    """The conditions and the gates the options ask for (none: hold from start to end).
    The hours are a gate when other conditions are asked for, else a condition; the
    lock screen is always a gate."""
    from .options import CONDITIONS

    if args.ignore_app and not args.while_audio:
        from ..errors import UsageError

        raise UsageError("--ignore-app needs --while-audio (the streams it leaves out)")
    if not any(getattr(args, dest) for dest in CONDITIONS):
        return [], []
    from .. import conditions as c

    found: list[c.Condition] = []
    if args.while_running:
        interval = args.scan_interval or c.SCAN_INTERVAL
        found.append(c.ProcessRunning(*args.while_running, interval=interval))
    if args.while_playing:
        found.append(c.MediaPlaying())
    if args.while_audio:
        found.append(c.AudioPlaying(args.ignore_app))
    if args.while_fullscreen:
        found.append(c.Fullscreen())
    if args.while_remote:
        found.append(c.RemoteLogin())
    gates: list[c.Condition] = [c.NotLocked()] if args.not_when_locked else []
    if args.min_battery is not None:
        gates.append(c.MinBattery(args.min_battery))
    if args.between or args.days:
        hours = c.Hours(*(args.between or ["00:00-24:00"]), days=args.days)
        (gates if found else found).append(hours)
    return found, gates


def hold(args: "Any", command: "list[str]") -> int:
    """Hold as the options say; SIGUSR1 pauses and resumes it (for hotkey daemons that can
    only send a signal), unless a command runs, which gets the signals."""
    if command:
        if getattr(args, "detach", False):
            error("--detach takes no command after '--' (the command would lose its terminal)")
            return EXIT_USAGE
        return _hold_session(args, command, [])
    detached = None
    if getattr(args, "detach", False):
        from .detach import detach

        found = detach()
        if isinstance(found, int):
            return found  # the parent: the child holds, or failed
        detached = found
    import signal

    toggling: list[Any] = []  # the session, once made

    def toggle(_signum: int, _frame: "Any") -> None:
        for session in toggling:
            (session.resume if session.paused else session.pause)()

    previous = signal.signal(signal.SIGUSR1, toggle) if hasattr(signal, "SIGUSR1") else None
    try:
        return _hold_session(args, command, toggling, detached)
    finally:
        if previous is not None:
            signal.signal(signal.SIGUSR1, previous)


def _hold_session(
    args: "Any", command: "list[str]", toggling: "list[Any]", detached: "Any" = None
) -> int:
    from ..core.session import Session
    from ..mechanisms import screen_blocked

    human = not (args.quiet or args.json)
    session: Session | None = None
    # With a command, the command owns stdout: all of cocainate's goes to stderr.
    say = err if command else out
    said = Said(human, say)
    if args.json:
        from .say import stream

        stream("stderr" if command else "stdout").note = json_dropped
    try:
        session = Session(
            **session_arguments(args),
            handle_signals=not command,  # with a command, signals go to the command
            on_event=said.json if args.json else said.event,
        )
        toggling.append(session)
        try:
            session.start()
        finally:
            _resume_gc()
        from ..bindings.wallclock import BOOTTIME, now

        started = now(BOOTTIME)  # elapsed in real time, a suspend included
    except UsageError as problem:
        error(str(problem))
        return EXIT_USAGE
    except NoMechanismError as problem:
        say_failure(problem)
        return EXIT_NO_MECHANISM
    except SessionError as problem:
        ended = session.ended if session is not None else None
        if ended is not None and ended.reason == "signal" and ended.signal:
            return 128 + ended.signal  # a signal during start-up: everything is let go
        error(str(problem))
        return EXIT_FAILURE
    except CocainateError as problem:
        error(str(problem))
        return EXIT_FAILURE
    said.started = True
    child = keys = None
    status = EXIT_OK
    if args.tray:
        from .tray import HoldIcon

        try:
            said.icon = HoldIcon(session)
        except (MechanismError, OSError, ImportError) as problem:  # ImportError: no jeepney
            error(f"warning: no tray icon: {problem}")
        else:
            session.watch(said.icon)
    try:
        from .say import stream

        for name in ("stdout", "stderr"):
            session.watch(stream(name))  # pending output is sent when the reader takes it
        if command:
            from .command import Command, CommandError

            try:
                child = Command(command)
            except CommandError as problem:
                error(str(problem))
                return problem.status
            session.add_pid(child.pid)
        if args.verbose:
            report_attempts(session.attempts)
            if session.conditional:
                err(printable(f"{PROG}: {session.state} now: {session.conditions_now}"))
        if (
            session.attempts
            and session.mode is Mode.DISPLAY
            and not screen_blocked(session.attempts)
        ):
            error("warning: nothing held keeps the screen on; only sleep is blocked")
        for attempt in session.acquired:
            if attempt.caveat:
                error(f"warning: {attempt.name}: {attempt.caveat}")
        if human and session.active:
            # with a command, its output owns stdout: say it once on stderr instead
            say(announce(session, command))
        from .control import publish

        publish(session, args, command, detached is not None)
        if detached is not None:
            detached.ready()
        from .terminal import interactive

        # With a command at the terminal, the command owns it: no line drawn, no keys read.
        live = human and interactive() and not command
        if live:
            from .terminal import Keys

            keys = Keys(session)
            session.watch(keys)
        ended = _wait(session, live, started, until_text_of(session), keys)
    finally:
        if keys is not None:
            keys.close()
        session.stop()
        if said.icon is not None:
            said.icon.close()
        if child is not None:
            status = child.finish()
    for text in session.problems:
        error(text)
    if human:
        from ..duration import format_duration

        elapsed = format_duration(now(BOOTTIME) - started)
        why = str(ended)
        if child is not None and ended is not None and ended.pid == child.pid:
            why = f"{command[0]} exited"  # what the start line named, not a PID never shown
        say(f"{PROG}: released after {elapsed} ({printable(why)})")
    if ended is not None and ended.reason == "lost":
        error("nothing holds any more: every mechanism was lost and none came back")
        return status or EXIT_LOST
    if ended is not None and ended.reason == "condition-lost":
        return status or EXIT_FAILURE  # said by its "lost" line; a unit's restart may mend it
    if ended is not None and ended.reason == "failed" and session.failure is not None:
        say_failure(session.failure)
        return status or EXIT_NO_MECHANISM
    return status


def _resume_gc() -> None:
    """Resume the garbage collector if the entry point paused it for start-up."""
    entry: Any = sys.modules.get(__package__ or "")  # cocainate.cli, whose main() paused it
    if getattr(entry, "paused_gc", False):
        import gc

        gc.enable()
        entry.paused_gc = False


def _wait(
    session: "Session", live: bool, started: float, until: str, keys: "Any" = None
) -> "Ended | None":
    """Wait for the end; at a terminal with a time limit, redraw the progress line each
    second meanwhile, and at once after a resize. Otherwise nothing wakes the process until
    the session ends."""
    if not live or session.remaining is None:
        return session.wait()
    import signal

    from ..bindings.wallclock import BOOTTIME, now
    from .say import stream
    from .terminal import Line, TerminalSignals, columns, progress_line

    fd = sys.stdout.fileno()
    line = Line(stream("stdout"), lambda: columns(fd))
    total = session.remaining

    def draw() -> None:
        elapsed = now(BOOTTIME) - started
        line.draw(progress_line(session, elapsed, total, until, columns(fd)))

    def on_signal(signum: int) -> None:
        if signum == getattr(signal, "SIGCONT", None) and keys is not None:
            keys.apply()
        draw()

    from . import say

    signals = TerminalSignals(on_signal)
    session.watch(signals)
    say.live = line
    try:
        while True:
            draw()
            ended = session.wait(timeout=1.0)
            if ended is not None:
                return ended
    finally:
        say.live = None
        line.clear()
        signals.close()
