"""Go's duration syntax (``time.ParseDuration``): ``300ms``, ``1.5h``, ``1h10m10s``."""

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


def _term(text: str, at: int) -> "tuple[str, str | None, str, int]":
    """One term from ``at``: digits, an optional "." and digits, then the unit (what is
    neither a digit nor a "."); and where it ends. (A scanner, not a regular expression:
    start-up.)"""
    end = len(text)
    i = at
    while i < end and "0" <= text[i] <= "9":  # ASCII digits only, as Go reads them
        i += 1
    whole, fraction = text[at:i], None
    if i < end and text[i] == ".":
        j = i + 1
        while j < end and "0" <= text[j] <= "9":
            j += 1
        fraction, i = text[i + 1 : j], j
    k = i
    while k < end and text[k] != "." and not "0" <= text[k] <= "9":
        k += 1
    return whole, fraction, text[i:k], k


def parse_duration(text: str) -> float:
    """Return the duration ``text`` names, in seconds (the library's one unit of time).

    Accepts what Go's ``time.ParseDuration`` accepts except negative durations, which make
    no sense for a session. Raises :class:`UsageError` with a message naming the problem.
    """
    return nanoseconds(text) / 1e9


def nanoseconds(text: str) -> int:
    """:func:`parse_duration`, exactly: whole nanoseconds, as Go counts them."""
    if not isinstance(text, str):
        raise UsageError(f"a duration to parse is text such as '1h30m', not {text!r}")
    shown = repr(text) if len(text) <= 40 else repr(text[:40]) + "..."  # errors stay short
    negative = text.startswith("-")
    if text.startswith(("-", "+")):
        text = text[1:]
    if text == "0":
        return 0  # "-0" and "+0" too, as in Go
    if not text:
        raise UsageError(f"invalid duration {shown}: it is empty")
    total = 0
    position = 0
    while position < len(text):
        whole, fraction, unit, end = _term(text, position)
        if not whole and not fraction:
            raise UsageError(f"invalid duration {shown}: expected a number at {text[position:]!r}")
        if "-" in unit or "+" in unit:
            raise UsageError(
                f"invalid duration {shown}: a sign may only come first, once"
                " (durations cannot be subtracted)"
            )
        if not unit:
            raise UsageError(
                f"invalid duration {shown}: missing unit after {text[position:end]!r}"
                " (use ns, us, ms, s, m or h)"
            )
        scale = _NANOSECONDS.get(unit)
        if scale is None:
            raise UsageError(
                f"invalid duration {shown}: unknown unit {unit!r} (use ns, us, ms, s, m or h)"
            )
        whole = whole.lstrip("0")
        if len(whole) > 20:  # past int64 nanoseconds whatever the unit; int() of thousands
            raise UsageError(  # of digits would refuse anyway
                f"invalid duration {shown}: longer than Go's limit of ~292 years"
            )
        digits = (fraction or "")[:100]  # beyond a nanosecond of an hour long before this
        # Exact integer arithmetic; Go truncates sub-nanosecond fractions too.
        total += int(whole or "0") * scale + int(digits or "0") * scale // 10 ** len(digits)
        if total > MAX_NANOSECONDS:
            raise UsageError(f"invalid duration {shown}: longer than Go's limit of ~292 years")
        position = end
    if negative and total:
        raise UsageError(f"invalid duration {shown}: it must not be negative")
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


def parse_until(text: str, now: "float | None" = None) -> float:
    """The wall-clock time ``text`` names, as a timestamp.

    ``17:30`` and ``17:30:15`` mean the next such local time: today, or tomorrow if it has
    passed. An ISO 8601 date-time (``2026-11-28T17:30``, with an offset or ``Z``, or local)
    must be in the future.
    """
    import time as _time
    from datetime import datetime, timedelta

    now = _time.time() if now is None else now
    import re

    if not text.isascii():
        raise UsageError(f"invalid time {text!r}: use ASCII digits")
    clock = re.fullmatch(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?", text)
    if clock:
        hour, minute, second = (int(g or 0) for g in clock.groups())
        if hour > 23 or minute > 59 or second > 59:
            raise UsageError(f"invalid time {text!r}: use HH:MM or HH:MM:SS, 24-hour")
        today = datetime.fromtimestamp(now)
        target = today.replace(hour=hour, minute=minute, second=second, microsecond=0)
        if target.timestamp() <= now:
            target += timedelta(days=1)
        return target.timestamp()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise UsageError(
            f"invalid time {text!r}: use HH:MM, HH:MM:SS or an ISO 8601 date-time"
        ) from None
    try:
        stamp = moment.timestamp()  # a naive date-time is local time
    except (OverflowError, ValueError, OSError):
        raise UsageError(f"invalid time {text!r}: out of range") from None
    if stamp <= now:
        raise UsageError(f"invalid time {text!r}: it is in the past")
    return stamp


def until_text(stamp: float, now: "float | None" = None) -> str:
    """A wall-clock time as a person reads it, from ``now``: ``17:30:00`` today,
    ``17:30:00 tomorrow``, else with its date, ``2026-12-24 17:30:00``."""
    import time as _time
    from datetime import date

    at = _time.localtime(stamp)
    today = _time.localtime(now)
    clock = _time.strftime("%H:%M:%S", at)
    days = (date(*at[:3]) - date(*today[:3])).days
    if days == 0:
        return clock
    if days == 1:
        return f"{clock} tomorrow"
    return _time.strftime("%Y-%m-%d %H:%M:%S", at)
