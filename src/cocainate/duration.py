"""Go's duration syntax (``time.ParseDuration``): ``300ms``, ``1.5h``, ``1h10m10s``."""

from __future__ import annotations

import re

from .errors import UsageError

_NANOSECONDS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign, as Go accepts
    "\u03bcs": 1_000,  # Greek small letter mu, as Go accepts
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
# Go's durations are int64 nanoseconds: about 292 years.
MAX_NANOSECONDS = 2**63 - 1
_TERM = re.compile(r"(\d*)(?:\.(\d*))?([^\d.]*)")


def parse_duration(text: str) -> int:
    """Return the duration ``text`` names, in nanoseconds.

    Accepts what Go's ``time.ParseDuration`` accepts except negative durations, which make
    no sense for a session. Raises :class:`UsageError` with a message naming the problem.
    """
    original = text
    if text.startswith("-"):
        raise UsageError(f"invalid duration {original!r}: it must not be negative")
    if text.startswith("+"):
        text = text[1:]
    if text == "0":
        return 0
    if not text:
        raise UsageError(f"invalid duration {original!r}: it is empty")
    total = 0
    position = 0
    while position < len(text):
        match = _TERM.match(text, position)
        assert match is not None  # the pattern matches the empty string
        whole, fraction, unit = match.groups()
        if not whole and not fraction:
            raise UsageError(
                f"invalid duration {original!r}: expected a number at {text[position:]!r}"
            )
        if not unit:
            raise UsageError(
                f"invalid duration {original!r}: missing unit after {match.group(0)!r}"
                " (use ns, us, ms, s, m or h)"
            )
        scale = _NANOSECONDS.get(unit)
        if scale is None:
            raise UsageError(
                f"invalid duration {original!r}: unknown unit {unit!r} (use ns, us, ms, s, m or h)"
            )
        digits = fraction or ""
        # Exact integer arithmetic; Go truncates sub-nanosecond fractions too.
        total += int(whole or "0") * scale + int(digits or "0") * scale // 10 ** len(digits)
        if total > MAX_NANOSECONDS:
            raise UsageError(f"invalid duration {original!r}: longer than Go's limit of ~292 years")
        position = match.end()
    return total


def format_duration(seconds: float) -> str:
    """Format like Go's ``Duration.String`` at whole-millisecond precision: ``1h2m3.5s``."""
    milliseconds = round(seconds * 1000)
    if milliseconds < 1000:
        return f"{milliseconds}ms"
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    out = f"{hours}h" if hours else ""
    if hours or minutes:
        out += f"{minutes}m"
    return f"{out}{secs}s"
