"""The one table of cocainate's command line: options, subcommands, exit statuses; and
:func:`fast_parse`, which reads a command line that holds by it.

The fast path, the argparse parser (:mod:`.parsing`), the shell
completions, the man page and its SYNOPSIS, ``--help``'s exit statuses, docs/cli.md's table
of them (``tools/generate.py``) and ``cocainate watch``'s config keys are all built from
it. Each value is checked by the one function its option names (the library's own, where
the library has one), and each option says which ``Session`` argument it becomes.
"""

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable

from ..errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

PROG = "cocainate"

# The exit statuses; what each means is EXIT_STATUS, below.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NO_MECHANISM = 3
EXIT_LOST = 4
EXIT_NOT_RUNNING = 5
EXIT_INTERRUPTED = 130


LINGER = 2.0
"""Seconds the command line keeps a hold its conditions no longer call for, by default."""

MAX_PID = 2**31 - 1
"""The largest PID any system we run on hands out fits a signed 32-bit integer."""


def check_duration(text: str) -> float:
    from ..duration import parse_duration

    return parse_duration(text)


def check_pid(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise UsageError(f"invalid PID {text!r}: not a number")
    if len(text.lstrip("0")) > 10:  # no int() of thousands of digits
        raise UsageError(f"invalid PID {text[:20]!r}...: too large")
    pid = int(text)
    if pid <= 0:
        raise UsageError(f"invalid PID {text!r}: it must be positive")
    if pid > MAX_PID:
        raise UsageError(f"invalid PID {text!r}: too large (at most {MAX_PID})")
    return pid


def check_name(text: str) -> str:
    from ..conditions import process_name  # the library's check

    return process_name(text)


def check_until(text: str) -> str:
    from ..duration import parse_until

    parse_until(text)
    return text


def check_hours(text: str) -> str:
    from ..conditions import hours_range  # the library's check

    hours_range(text)
    return text


def check_days(text: str) -> str:
    from ..conditions import weekdays  # the library's check

    weekdays(text)
    return text


def check_battery(text: str) -> float:
    from ..conditions import battery_floor  # the library's check

    return battery_floor(text)


def check_app(text: str) -> str:
    from ..conditions import app_name  # the library's check

    return app_name(text)


def check_interval(text: str) -> float:
    from ..conditions import scan_interval  # the library's check

    return scan_interval(check_duration(text))


class Option:
    """One option. (A plain class, not a NamedTuple: start-up.)"""

    __slots__ = (
        "check",
        "choices",
        "complete",
        "config",
        "default",
        "dest",
        "exclusive",
        "flags",
        "help",
        "metavar",
        "repeat",
        "session",
    )

    def __init__(
        self,
        flags: "tuple[str, ...]",
        dest: str,
        help: str,
        metavar: "str | None" = None,
        check: "Callable[[str], Any] | None" = None,
        choices: "tuple[str, ...] | None" = None,
        repeat: bool = False,
        default: "Any" = None,
        exclusive: "str | None" = None,
        complete: "str | None" = None,
        config: bool = False,
        session: "str | None" = None,
    ) -> None:
        self.flags = flags
        self.dest = dest
        self.help = help
        self.metavar = metavar  # None: a flag, which takes no value
        self.check = check  # turns the text into the value, or raises UsageError
        self.choices = choices
        self.repeat = repeat  # may be given more than once; the value is a list
        self.default = default
        self.exclusive = exclusive  # options sharing this name exclude each other
        self.complete = complete  # what a shell completes: "pid", "method", "choices"
        self.config = config  # a key of 'cocainate watch''s config: the long flag's name
        self.session = session  # the Session argument it becomes ("conditions": one)

    def __repr__(self) -> str:
        return f"Option({self.flags[-1]})"

    @property
    def takes_value(self) -> bool:
        return self.metavar is not None

    @property
    def key(self) -> str:
        """Its key in ``cocainate watch``'s config file: the long flag, without dashes."""
        return self.flags[-1][2:]

    def value(self, text: str) -> "Any":
        """The value for ``text``, or UsageError naming the problem."""
        if self.choices is not None and text not in self.choices:
            raise UsageError(
                f"invalid {self.flags[-1]} {text!r} (choose from {', '.join(self.choices)})"
            )
        return self.check(text) if self.check is not None else text


class Subcommand:
    __slots__ = ("argument", "help", "name", "optional", "options")

    def __init__(
        self,
        name: str,
        help: str,
        options: "tuple[Option, ...]" = (),
        argument: "Option | None" = None,
        optional: bool = False,
    ) -> None:
        self.name, self.help, self.options = name, help, options
        self.argument = argument  # one positional argument (an Option without flags)
        self.optional = optional  # whether the argument may be left out


MODES = ("display", "system")
CONDITIONS = (
    "while_running",
    "while_playing",
    "while_audio",
    "while_fullscreen",
    "while_remote",
    "between",
    "days",
    "not_when_locked",
    "min_battery",
)
"""The options that each ask for a condition or a gate (the rest of session "conditions" tune
one)."""
SHELLS = ("bash", "zsh", "fish")

OPTIONS: "tuple[Option, ...]" = (
    Option(
        ("-d", "--duration"),
        "duration",
        "end after DURATION, in Go syntax: 300ms, 1.5h, 1h10m10s (0: no limit)",
        metavar="DURATION",
        check=check_duration,
        session="duration",
    ),
    Option(
        ("-p", "--pid"),
        "pid",
        "end when process PID exits; repeat to wait until all of them have exited",
        metavar="PID",
        check=check_pid,
        repeat=True,
        default=(),
        complete="pid",
        session="pids",
    ),
    Option(
        ("--until",),
        "until",
        "end at TIME: 17:30, 17:30:15 (tomorrow if past) or an ISO 8601 date-time",
        metavar="TIME",
        check=check_until,
        session="until",
    ),
    Option(
        ("--while-running",),
        "while_running",
        "hold only while a process named NAME runs (repeatable: any of them); "
        "the others end the watch",
        metavar="NAME",
        check=check_name,
        repeat=True,
        default=(),
        complete="process",
        session="conditions",
        config=True,
    ),
    Option(
        ("--scan-interval",),
        "scan_interval",
        "with --while-running: look for a new process every DURATION while none runs (default 2s)",
        metavar="DURATION",
        check=check_interval,
        session="conditions",  # ProcessRunning's interval
        config=True,
    ),
    Option(
        ("--while-playing",),
        "while_playing",
        "hold only while a media player (MPRIS) plays",
        session="conditions",
        config=True,
    ),
    Option(
        ("--while-audio",),
        "while_audio",
        "hold only while a sound plays (PulseAudio or PipeWire: a stream not paused, muted "
        "or at zero volume); needs the audio extra",
        session="conditions",
        config=True,
    ),
    Option(
        ("--ignore-app",),
        "ignore_app",
        "with --while-audio: the sound of application NAME does not count (repeatable)",
        metavar="NAME",
        check=check_app,
        repeat=True,
        default=(),
        session="conditions",
        config=True,
    ),
    Option(
        ("--while-fullscreen",),
        "while_fullscreen",
        "hold only while the focused window is fullscreen (X11 EWMH, or wlroots Wayland)",
        session="conditions",
        config=True,
    ),
    Option(
        ("--while-remote",),
        "while_remote",
        "hold only while a remote login (SSH...) of any user exists (systemd-logind)",
        session="conditions",
        config=True,
    ),
    Option(
        ("--between",),
        "between",
        "hold only between these times of day, 09:00-17:30 (repeatable: any of them; "
        "22:00-06:00 runs past midnight); with other conditions, a gate they also need",
        metavar="RANGE",
        check=check_hours,
        repeat=True,
        default=(),
        session="conditions",
        config=True,
    ),
    Option(
        ("--days",),
        "days",
        "with --between (alone: all day): only on these days, mon-fri, sat,sun",
        metavar="DAYS",
        check=check_days,
        session="conditions",
        config=True,
    ),
    Option(
        ("--not-when-locked",),
        "not_when_locked",
        "let go while the session is locked (logind's LockedHint, or the screensaver's "
        "ActiveChanged), hold again on unlock",
        session="gates",
        config=True,
    ),
    Option(
        ("--min-battery",),
        "min_battery",
        "let go while on battery below PERCENT of its charge (20), hold again on mains power "
        "or above it",
        metavar="PERCENT",
        check=check_battery,
        session="gates",
        config=True,
    ),
    Option(
        ("--linger",),
        "linger",
        "with conditions: let go only once they have been unmet for DURATION (default 2s: a "
        "track change or a pause between videos keeps the hold; 0: at once)",
        metavar="DURATION",
        check=check_duration,
        default=LINGER,
        session="linger",
        config=True,
    ),
    Option(
        ("--only-on-ac",),
        "only_on_ac",
        "hold only while on mains power (UPower), whatever else says to hold",
        session="only_on_ac",
        config=True,
    ),
    Option(("-q", "--quiet"), "quiet", "print nothing on stdout", exclusive="talk"),
    Option(
        ("-v", "--verbose"),
        "verbose",
        "say on stderr which mechanisms were tried, which hold, and why others could not",
        exclusive="talk",
    ),
    Option(
        ("--json",),
        "json",
        "print one JSON object per event on stdout "
        "(acquired, waiting, lost, reacquired, ended, released)",
        exclusive="talk",
    ),
    Option(
        ("--tray",),
        "tray",
        "show a tray icon for this hold: a click pauses and resumes it (config: tray = true)",
        config=True,
    ),
    Option(
        ("--detach",),
        "detach",
        "hold in the background: return once the hold is in place, printing its PID "
        "('cocainate off' or 'stop PID' lets go)",
    ),
    Option(
        ("--mode",),
        "mode",
        "display: the screen stays on (default); system: only the system stays awake",
        metavar="MODE",
        choices=MODES,
        default="display",
        complete="choices",
        session="mode",
        config=True,
    ),
    Option(
        ("--lid",),
        "lid",
        "with --mode system: closing the lid does not suspend either (logind's "
        "handle-lid-switch lock; pair it with --min-battery)",
        session="lid",
        config=True,
    ),
    Option(
        ("--reason",),
        "reason",
        "the reason given to the services",
        metavar="TEXT",
        session="reason",
        config=True,
    ),
    Option(("--version",), "version", "print the version and exit (as 'cocainate version')"),
    Option(
        ("--method",),
        "method",
        "use only this mechanism (repeatable); see 'cocainate methods'",
        metavar="NAME",
        repeat=True,
        complete="method",
        session="methods",
        config=True,
    ),
)


_by_dest = {o.dest: o for o in OPTIONS}.__getitem__  # a subcommand's shared options


SUBCOMMANDS: "tuple[Subcommand, ...]" = (
    Subcommand(
        "version",
        "print the version",
        (
            Option(
                ("-v", "--verbose"),
                "verbose",
                "also print Python, the platform and the mechanisms usable here",
            ),
        ),
    ),
    Subcommand(
        "watch",
        "hold while the conditions in the config file say so, until a signal "
        "(a systemd user unit runs it: see --print-unit)",
        (
            Option(
                ("--config",),
                "config",
                "the config file (default: $XDG_CONFIG_HOME/cocainate/config.toml)",
                metavar="FILE",
                complete="file",
            ),
            Option(
                ("--print-unit",),
                "print_unit",
                "print a systemd user unit that runs this cocainate's 'watch', and exit",
            ),
            *(o for o in OPTIONS if o.exclusive == "talk"),  # -q, -v, --json: as when holding
        ),
    ),
    Subcommand(
        "tray",
        "show a tray icon (StatusNotifierItem) whose click or menu holds and lets go, until "
        "quit or a signal",
        tuple(map(_by_dest, ("quiet", "mode", "reason", "method"))),
    ),
    Subcommand(
        "status",
        "list the running cocainate sessions, and the inhibitors held on this machine by the "
        "services that can tell",
        (
            Option(
                ("--json",),
                "json",
                "print the running sessions as one JSON object (Waybar's custom module reads "
                "its text, alt, class and tooltip)",
            ),
            Option(
                ("--follow",),
                "follow",
                "print the sessions again at each change, one line (or JSON object) each, and "
                "nothing in between",
            ),
        ),
    ),
    Subcommand(
        "toggle",
        "let go if any session holds (as 'off'), else hold (as 'on')",
        (_by_dest("quiet"),),
    ),
    Subcommand(
        "on",
        "resume the paused sessions, or, with none running, hold in the background "
        "(as --detach); -d or --until gives the holds a new end",
        tuple(map(_by_dest, ("duration", "until", "mode", "reason", "method", "quiet"))),
    ),
    Subcommand(
        "off",
        "let go: pause every running session (a watch goes on following its conditions) and "
        "stop those started in the background",
        (_by_dest("quiet"),),
    ),
    Subcommand(
        "pause", "pause every running session: nothing is held until 'resume'", (_by_dest("quiet"),)
    ),
    Subcommand("resume", "resume every paused session", (_by_dest("quiet"),)),
    Subcommand(
        "extend",
        "end the running holds DURATION later, or at --until TIME",
        (_by_dest("until"), _by_dest("quiet")),
        argument=Option(
            (),
            "by",
            "how much later, in Go syntax: 30m, 1h",
            metavar="DURATION",
            check=check_duration,
        ),
        optional=True,
    ),
    Subcommand(
        "stop",
        "end the running session (the one of process PID; --all: every one) and return once it "
        "has let go",
        (
            Option(("--all",), "all", "stop every running session"),
            _by_dest("quiet"),
        ),
        argument=Option(
            (),
            "target",
            "the process whose session to stop",
            metavar="PID",
            check=check_pid,
            complete="pid",
        ),
        optional=True,
    ),
    Subcommand("methods", "list this platform's mechanisms and whether each can be used here"),
    Subcommand(
        "completion",
        "print the completion script for SHELL (bash, zsh or fish)",
        argument=Option(
            (),
            "shell",
            "the shell: bash, zsh or fish",
            metavar="SHELL",
            choices=SHELLS,
            complete="choices",
        ),
    ),
)

USAGE = "%(prog)s [options] [-- COMMAND [ARG...]]\n       %(prog)s SUBCOMMAND ..."

DESCRIPTION = (
    "Keep the screen (or only the system) awake until a duration passes, "
    "processes exit, or you press Ctrl-C; then let go."
)
# For the man page (tools/generate.py) and --help: the sections argparse has no place for.
EXIT_STATUS = (
    (
        EXIT_OK,
        "the session ended as asked: duration, time, process exit, signal (SIGINT, SIGTERM, "
        "SIGQUIT, SIGHUP), q; everything was released",
    ),
    (
        "N",
        "with -- COMMAND: the command's exit status (128+N if signal N killed it; 127 if it "
        "was not found, 126 if it cannot run)",
    ),
    (
        EXIT_FAILURE,
        "an unexpected error, or a condition that cannot be watched here (at start, or when "
        "its display server goes away), in one line",
    ),
    (
        EXIT_USAGE,
        "bad usage: an unknown option, a bad duration, PID, time, mode or method, a PID that "
        "does not exist",
    ),
    (
        EXIT_NO_MECHANISM,
        "no mechanism could be acquired (at start, or when a condition called for a hold); "
        "a line per mechanism says why",
    ),
    (
        EXIT_LOST,
        "every mechanism was lost while holding (a service or the bus went away) and none "
        "came back within 5 s",
    ),
    (
        EXIT_NOT_RUNNING,
        "stop, pause, resume or extend found no running session to act on",
    ),
    (
        EXIT_INTERRUPTED,
        "Ctrl-C before the hold was in place (128+N for another signal N); nothing is left held",
    ),
)


ENVIRONMENT = (
    ("DBUS_SESSION_BUS_ADDRESS", "the session bus (else $XDG_RUNTIME_DIR/bus)"),
    ("DBUS_SYSTEM_BUS_ADDRESS", "the system bus, for logind (else /run/dbus/system_bus_socket)"),
    ("DISPLAY", "the X server, for the x11 mechanism"),
    ("XAUTHORITY", "the X server's cookie file (else ~/.Xauthority)"),
    ("WAYLAND_DISPLAY", "the Wayland compositor, for the wayland mechanism"),
    ("XDG_RUNTIME_DIR", "where the Wayland socket and the session bus are found"),
    ("XDG_CONFIG_HOME", "where 'cocainate watch' finds cocainate/config.toml (else ~/.config)"),
)
EXAMPLES = (
    ("cocainate -d 1h", "keep the screen on for an hour"),
    ("cocainate -p 4242", "until process 4242 exits"),
    ("cocainate --until 17:30", "until 17:30 (tomorrow if it has passed)"),
    ("cocainate -d 2h -- ./train.py", "while a command runs, at most two hours"),
    ("cocainate --mode system -q", "keep only the system awake, silently, until Ctrl-C"),
    (
        "cocainate --mode system --lid --min-battery 20% -- ./backup.sh",
        "run a backup with the lid closed, but let go on a low battery",
    ),
    ("cocainate --while-running ffmpeg", "hold whenever ffmpeg runs, until Ctrl-C"),
    (
        "cocainate --while-playing --while-fullscreen --only-on-ac",
        "hold while media plays or a window is fullscreen, only on mains power",
    ),
    (
        "cocainate --while-audio --ignore-app spotify",
        "hold while a game, a call or a video makes sound, but not for music",
    ),
    (
        "cocainate --between 09:00-17:30 --days mon-fri",
        "hold during working hours, and only then, until Ctrl-C",
    ),
    (
        "cocainate watch --print-unit > ~/.config/systemd/user/cocainate-watch.service",
        "install the user service that runs 'cocainate watch' in every graphical session",
    ),
    ("systemctl --user enable --now cocainate-watch", "start it now and at every login"),
    ('eval "$(cocainate completion bash)"', "complete cocainate's options in this bash"),
)
FILES = (
    (
        "$XDG_CONFIG_HOME/cocainate/config.toml",
        "what 'cocainate watch' waits for, in TOML: while-running = [\"ffmpeg\"], "
        "while-playing, while-audio, while-fullscreen, only-on-ac (true or false), ignore-app, "
        "mode, reason, method, "
        'scan-interval ("2s")',
    ),
    (
        "share/systemd/user/cocainate-watch.service",
        "the user service that runs 'cocainate watch' (or: cocainate watch --print-unit)",
    ),
)
SEE_ALSO = (("systemd-inhibit", 1), ("caffeinate", 8), ("xset", 1))


def defaults() -> "dict[str, Any]":
    """Every option's dest with its default: what a command line without options means."""
    out: dict[str, Any] = {
        o.dest: (list(o.default or ()) if o.repeat else o.default) for o in OPTIONS
    }
    for option in OPTIONS:
        if not option.takes_value:
            out[option.dest] = False
    out["command"] = None
    return out


BY_FLAG = {flag: option for option in OPTIONS for flag in option.flags}


def fast_parse(argv: "Sequence[str]") -> "SimpleNamespace | None":
    """The options of a command line that holds, or None for anything else."""
    found = defaults()
    given: dict[str, str] = {}  # exclusive group -> the flag that took it
    rest = iter(argv)
    for arg in rest:
        for option, text in _split(arg, rest):
            if option is None:
                return None
            exclusive = option.exclusive
            if exclusive is not None and given.setdefault(exclusive, option.dest) != option.dest:
                return None
            if text is None:
                found[option.dest] = True
                continue
            try:
                value = option.value(text)
            except UsageError:
                return None
            if option.repeat:
                found[option.dest].append(value)
            else:
                found[option.dest] = value
    return SimpleNamespace(**found)


def _split(arg: str, rest: "Iterator[str]") -> "list[tuple[Option | None, str | None]]":
    """The options in ``arg`` (a flag, ``--flag=value``, ``-dVALUE``, a cluster such as
    ``-qd1h``), with their values (None for a flag); (None, None) for what is not ours."""
    if "=" in arg and arg.startswith("-"):
        flag, _, text = arg.partition("=")
        option = BY_FLAG.get(flag)
        if option is not None and option.takes_value:
            return [(option, text) if text != "--" else (None, None)]
        if arg.startswith("--"):
            return [(None, None)]
    option = BY_FLAG.get(arg)
    if option is not None:
        if not option.takes_value:
            return [(option, None)]
        following = next(rest, None)
        if following is None or not is_value(following):
            return [(None, None)]  # a missing value: argparse says so
        return [(option, following)]
    if arg.startswith("--") or not arg.startswith("-") or len(arg) < 3:
        return [(None, None)]
    out: list[tuple[Option | None, str | None]] = []
    for at in range(1, len(arg)):  # a cluster of short options, as argparse reads it
        option = BY_FLAG.get("-" + arg[at])
        if option is None:
            return [(None, None)]
        if option.takes_value:
            text = arg[at + 1 :]
            return [*out, (option, text) if text != "--" else (None, None)]
        out.append((option, None))
    return out


def is_value(text: str) -> bool:
    """Whether ``text``, after an option that takes a value, is that value: anything but
    another option (``--reason -x`` gives the reason "-x"; ``-d -q`` lacks a duration) or
    "--", which argparse drops from values (so it is refused as one, both ways)."""
    return text not in BY_FLAG and text not in ("-h", "--help", "--")
