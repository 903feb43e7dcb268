"""Command lines generated from the CLI's one option table: mostly valid, some not."""

from __future__ import annotations

from hypothesis import strategies as st

from cocainate.cli.options import OPTIONS, SUBCOMMANDS, Option

# Values for each option that takes one: most valid, some not.
VALID = {
    "duration": ["1h", "300ms", "1.5h", "0", "2m30s", "+5s"],
    "pid": ["12", "1", "99999"],
    "until": ["17:30", "23:59:59", "2099-01-01T00:00"],
    "mode": ["display", "system"],
    "reason": ["why", "", "a b", "-x", "version"],
    "method": ["logind", "x11", "screensaver"],
    "while_running": ["ffmpeg", "robocopy.exe", "a b"],
    "ignore_app": ["spotify", "Firefox", "a b"],
    "scan_interval": ["2s", "100ms", "1m"],
    "between": ["00:00-24:00", "22:00-06:00", "09:00:30-09:00:31"],
    "days": ["mon-sun", "sat,sun", "fri-mon"],
    "min_battery": ["20%", "5", "100 %"],
    "linger": ["2s", "0", "500ms"],
}
INVALID = ["a/b", "-5s", "abc", "0", "-4", "+5", "1_000", "٣", " 7", "25:00", "bright", "-", "-q"]
OTHERS = ("-h", "--help", *(s.name for s in SUBCOMMANDS), "--frob", "-qv", "--dur", "-d1h")


def piece(option: Option, valid_only: bool = False) -> st.SearchStrategy[list[str]]:
    """One option as it may be typed: ``-d 1h``, ``--duration=1h``, ``-q``."""
    flag = st.sampled_from(option.flags)
    if not option.takes_value:
        return flag.map(lambda f: [f])
    value = st.sampled_from(VALID[option.dest])
    if not valid_only:
        value = value | st.sampled_from(INVALID) | st.text(max_size=4)
    spaced = st.tuples(flag, value).map(list)
    long = [f for f in option.flags if f.startswith("--")]
    joined = st.tuples(st.sampled_from(long), value).map(lambda fv: [f"{fv[0]}={fv[1]}"])
    return spaced | joined


def argv(
    options: tuple[Option, ...] = OPTIONS, others: tuple[str, ...] = OTHERS
) -> st.SearchStrategy[list[str]]:
    """Lines of up to five pieces: options with values (valid or not) and ``others``."""
    pieces = [piece(o) for o in options]
    if others:
        pieces.append(st.sampled_from(others).map(lambda t: [t]))
    return st.lists(st.one_of(*pieces), max_size=5).map(lambda ps: [t for p in ps for t in p])


def valid_argv(options: tuple[Option, ...] = OPTIONS) -> st.SearchStrategy[list[str]]:
    """Lines of valid options only (exclusive options may still clash)."""
    pieces = [piece(o, valid_only=True) for o in options]
    return st.lists(st.one_of(*pieces), max_size=4).map(lambda ps: [t for p in ps for t in p])


ARGV = argv()
