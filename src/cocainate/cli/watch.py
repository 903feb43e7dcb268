"""``cocainate watch``: hold while the conditions in the config file say so, until a signal.

The file is TOML, its keys the long options without their dashes::

    # ~/.config/cocainate/config.toml
    while-running = ["ffmpeg", "robocopy"]
    while-playing = true
    while-audio = true
    ignore-app = ["spotify"]    # with while-audio: its sound does not count
    while-fullscreen = true
    only-on-ac = true
    mode = "display"            # or "system"
    reason = "watching"
    method = ["x11"]            # as --method; default: every mechanism that can hold
    scan-interval = "2s"        # how often to look for a new process while none runs

A bad file is one line naming the file, the line and the problem, and exit status 2.
"""

import os
import sys
from typing import Any

from ..errors import UsageError
from .options import CONDITIONS, EXIT_USAGE, OPTIONS, Option
from .say import error

KEYS = {option.key: option for option in OPTIONS if option.config}
"""The config's keys: the long options marked ``config`` in the option table."""


UNIT = """\
# cocainate's user service: 'cocainate watch' for as long as the graphical session runs.
#   systemctl --user enable --now cocainate-watch
[Unit]
Description=cocainate: keep the screen awake while the conditions in its config say so
Documentation=man:cocainate(1)
PartOf=graphical-session.target
After=graphical-session.target

[Service]
ExecStart={executable} watch
# Again after a failure (the display or UPower not there yet at login), but not after a
# bad config file (status 2), which only a person can mend.
Restart=on-failure
RestartSec=5
RestartPreventExitStatus=2

[Install]
WantedBy=graphical-session.target
"""


def unit(executable: str) -> str:
    """The systemd user unit that runs ``executable watch``."""
    return UNIT.format(executable=executable)


def default_path() -> str:
    home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(home, "cocainate", "config.toml")


def watch(args: "Any") -> "int | Any":
    """An exit status, or the options to hold with, as the config file sets them (the
    caller holds; the options the file does not set are at their defaults: 'watch'
    takes no other)."""
    if args.print_unit:
        from .say import out

        executable = os.path.abspath(sys.argv[0]) if sys.argv[0] else "cocainate"
        if not os.path.basename(executable).startswith("cocainate"):  # python -m cocainate
            executable = f"{sys.executable} -m cocainate"
        out(unit(executable).rstrip("\n"))
        return 0
    path = args.config or default_path()
    try:
        settings = load(path)
    except UsageError as problem:
        error(str(problem))
        return EXIT_USAGE
    for key, value in settings.items():
        setattr(args, KEYS[key].dest, value)
    return args


MAX_BYTES = 64 * 1024
"""A config file larger than this is refused (the longest sensible one is a few hundred
bytes): a device or a huge file is never read to its end."""


def load(path: str) -> "dict[str, Any]":
    """The settings in the file at ``path``, checked; UsageError naming the line if bad."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # the same parser, from PyPI, before it joined the standard library
        import tomli as tomllib

    raw = _read(path)
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise UsageError(f"{path}, line {line}: not UTF-8 text (byte {err.start})") from None
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"{path}, {_where(err, text)}") from None
    except RecursionError:
        raise UsageError(f"{path}: nested too deeply to be a config file") from None
    settings: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{path}, line {_line_of(text, key)}"
        if key not in KEYS:
            raise UsageError(f"{where}: unknown setting {key!r} (known: {', '.join(KEYS)})")
        try:
            settings[key] = _check(key, value)
        except UsageError as err:
            raise UsageError(f"{where}: {key}: {err}") from None
    if not (conditions_in(settings) or settings.get("only-on-ac")):
        keys = [k for k, option in KEYS.items() if option.dest in CONDITIONS]
        raise UsageError(
            f"{path}: sets no condition ({', '.join(keys)}, only-on-ac), "
            "so there is nothing to watch"
        )
    return settings


def _read(path: str) -> bytes:
    """The file's bytes: a regular file's, at most :data:`MAX_BYTES`. Opened without
    blocking (a FIFO with no writer would wait for one for ever), then checked."""
    import stat

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UsageError(
            f"{path}: no such config file (write one: see 'man cocainate', or give --config)"
        ) from None
    except OSError as err:
        raise UsageError(f"{path}: cannot read it: {err.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise UsageError(f"{path}: {kind}: a config file is a regular file")
        chunks, size = [], 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, MAX_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as err:
        raise UsageError(f"{path}: cannot read it: {err.strerror}") from None
    finally:
        os.close(fd)
    if size > MAX_BYTES:
        raise UsageError(f"{path}: larger than {MAX_BYTES // 1024} KiB: not a config file")
    return b"".join(chunks)


def _where(err: "Exception", text: str) -> str:
    """A TOML error as "line N, column M: what" (TOML's own text ends "(at line N, column
    M)", or "(at end of document)")."""
    import re

    message = str(err)
    found = re.search(r" \(at line (\d+), column (\d+)\)$", message)
    if found:
        return f"line {found[1]}, column {found[2]}: {message[: found.start()]}"
    if message.endswith(" (at end of document)"):
        line = text.count("\n") + (0 if text.endswith("\n") else 1)
        return f"line {max(1, line)}, at the end: {message[: -len(' (at end of document)')]}"
    return message


def conditions_in(settings: "dict[str, Any]") -> bool:
    return any(settings.get(k) for k, option in KEYS.items() if option.dest in CONDITIONS)


def expected(option: "Option") -> str:
    """What a key's value must be, as a person says it."""
    if not option.takes_value:
        return "true or false"
    if option.choices:
        return f"one of {', '.join(option.choices)}"
    metavar = option.metavar or ""
    if metavar == "DAYS":
        return 'days such as "mon-fri"'
    word = {"TEXT": "string", "DURATION": 'duration such as "2s"', "PERCENT": "percentage"}.get(
        metavar, metavar.lower()
    )
    return f"a {word}, or a list of {word}s" if option.repeat else f"a {word}"


def _shown(value: object) -> str:
    """A value as TOML writes it (true, not True; 'a' is a TOML string too)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    return repr(value)


def _check(key: str, value: "Any") -> "Any":
    """The value, checked as the same option on the command line is; UsageError if not."""
    option = KEYS[key]
    if not option.takes_value:
        if not isinstance(value, bool):
            raise UsageError(f"expected {expected(option)}, got {_shown(value)}")
        return value
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if option.metavar == "DURATION" and number:
        value = f"{value}s"  # a number of seconds
    if option.metavar == "PERCENT" and number:
        value = str(value)  # min-battery = 20
    values = [value] if isinstance(value, str) or not option.repeat else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise UsageError(f"expected {expected(option)}, got {_shown(value)}")
    if option.choices and not set(values) <= set(option.choices):
        raise UsageError(f"expected {expected(option)}, got {_shown(value)}")
    checked = [option.value(v) for v in values]
    if option.dest == "method":
        from ..mechanisms import select

        select(checked)  # unknown names: UsageError naming them
    return checked if option.repeat else checked[0]


def _line_of(text: str, key: str) -> int:
    """The line that sets ``key`` at the top level (bare or quoted), or 1."""
    import re

    name = re.escape(key)
    pattern = re.compile(rf"""^\s*(?:\[\s*)?(?:{name}|"{name}"|'{name}')\s*[=\]]""")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return number
    return 1
