"""Go's duration syntax, as time.ParseDuration accepts it (minus negative durations)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocainate import UsageError, parse_duration
from cocainate.duration import MAX_NANOSECONDS, format_duration, nanoseconds

NS = {
    "ns": 1,
    "us": 10**3,
    "µs": 10**3,
    "μs": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ("0", 0),
        ("5ns", 5),
        ("10us", 10_000),
        ("10µs", 10_000),  # micro sign
        ("10μs", 10_000),  # Greek mu
        ("300ms", 300_000_000),
        ("1.5h", 5_400_000_000_000),
        ("2m30s", 150_000_000_000),
        ("1h10m10s", 4_210_000_000_000),
        ("+5s", 5_000_000_000),
        (".5s", 500_000_000),
        ("1.s", 1_000_000_000),
        ("1.0000000001s", 1_000_000_000),  # Go truncates below a nanosecond
        ("0s", 0),
        ("2562047h", 2562047 * 3600 * 10**9),
    ],
)
def test_accepts_go_syntax(text: str, exact: int) -> None:
    assert nanoseconds(text) == exact
    assert parse_duration(text) == exact / 1e9


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("abc", "expected a number"),
        ("-5s", "negative"),
        ("10x", "unknown unit 'x'"),
        ("1e400h", "unknown unit 'e'"),
        ("", "empty"),
        ("5", "missing unit"),
        ("1h5", "missing unit"),
        (".s", "expected a number"),
        ("3000000h", "limit"),
        ("1 h", "unknown unit ' h'"),
    ],
)
def test_rejects_with_a_message_naming_the_problem(text: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem) as info:
        parse_duration(text)
    assert "\n" not in str(info.value)


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 10**4), st.sampled_from(sorted(NS))),
        min_size=1,
        max_size=4,
    )
)
def test_sums_terms_exactly(terms: list[tuple[int, int, str]]) -> None:
    text = "".join(f"{whole}.{frac}{unit}" for whole, frac, unit in terms)
    expected = 0
    for whole, frac, unit in terms:
        digits = str(frac)
        expected += whole * NS[unit] + int(Fraction(int(digits) * NS[unit], 10 ** len(digits)))
    if expected > MAX_NANOSECONDS:
        with pytest.raises(UsageError):
            nanoseconds(text)
    else:
        assert nanoseconds(text) == expected


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789.+-hmsunµμ x", max_size=14) | st.text(max_size=8))
def test_never_raises_anything_but_usage_error(text: str) -> None:
    try:
        value = nanoseconds(text)
    except UsageError as err:
        assert str(err).startswith("invalid duration")
    else:
        assert 0 <= value <= MAX_NANOSECONDS
        assert parse_duration(text) == value / 1e9  # the public unit: seconds


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.3, "300ms"), (1, "1s"), (90, "1m30s"), (3661.5, "1h1m1.5s"), (7200, "2h0m0s")],
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_go_s_limit_exactly() -> None:
    """2**63 - 1 nanoseconds is Go's longest duration: it is accepted, one more is not."""
    longest = "2562047h47m16.854775807s"
    assert nanoseconds(longest) == MAX_NANOSECONDS == 2**63 - 1
    with pytest.raises(UsageError, match="Go's limit"):
        nanoseconds("2562047h47m16.854775808s")


@pytest.mark.parametrize("value", [5, None, b"1h", 1.5])
def test_what_is_not_text_is_named(value: object) -> None:
    with pytest.raises(UsageError, match="a duration to parse is text"):
        parse_duration(value)  # type: ignore[arg-type]
