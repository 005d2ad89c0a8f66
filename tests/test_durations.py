"""Compact configuration durations: parsing and the canonical spelling."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.durations import format_duration_compact, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        (" 1 h 30 m ", timedelta(hours=1, minutes=30)),
        ("90m", timedelta(minutes=90)),  # not normalised on input
        ("3600", timedelta(hours=1)),  # plain number: seconds
        (" 45 ", timedelta(seconds=45)),
        ("0s", timedelta(0)),
        ("0", timedelta(0)),
        ("1h0m", timedelta(hours=1)),
        ("007m", timedelta(minutes=7)),
        (3600, timedelta(hours=1)),  # an unquoted TOML number
        (0, timedelta(0)),
    ],
)
def test_parse(text: str | int, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("-5m", "negative"),
        ("-5", "negative"),
        (-5, "negative"),
        ("5y", "unknown unit 'y'"),
        ("15min", "unknown unit 'min'"),
        ("4H", "unknown unit 'H'"),
        ("30m1h", "largest to smallest"),
        ("1h1h", "largest to smallest"),
        ("1.5h", None),
        ("h", None),
        ("1h30", None),  # a trailing number without a unit
        ("abc", None),
        ("+5m", None),
        ("1h,30m", None),
        ("٣m", None),  # non-ASCII digits
        ("99999999999999999999w", "too large"),
        ("999999999w", "too large"),
        (1.5, "float"),
        (True, "bool"),
        (None, "NoneType"),
    ],
)
def test_parse_rejects(text: object, reason: str | None) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)  # type: ignore[arg-type]
    message = str(caught.value)
    # The message says what is accepted, so "<config key>: <message>" is enough to fix it.
    assert message.startswith("expected a duration such as 90s, 15m, 4h, 2d, 1w or 1h30m")
    assert repr(text) in message
    if reason:
        assert reason in message


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(hours=4), "4h"),
        (timedelta(days=2), "2d"),
        (timedelta(days=7), "1w"),
        (timedelta(days=10, seconds=1), "1w3d1s"),
        (timedelta(weeks=3, hours=1), "3w1h"),
    ],
)
def test_format(duration: timedelta, expected: str) -> None:
    assert format_duration_compact(duration) == expected


@pytest.mark.parametrize(
    "text", ["90s", "15m", "4h", "2d", "1w", "1h30m", "1h 30m", "90m", "3600", "0s", "1w2d3h4m5s"]
)
def test_format_is_canonical(text: str) -> None:
    duration = parse_duration(text)
    canonical = format_duration_compact(duration)
    assert parse_duration(canonical) == duration
    assert format_duration_compact(parse_duration(canonical)) == canonical


@pytest.mark.parametrize(
    "duration", [timedelta(seconds=-1), timedelta(milliseconds=1500)], ids=["negative", "fraction"]
)
def test_format_rejects_unrepresentable(duration: timedelta) -> None:
    with pytest.raises(ValueError):
        format_duration_compact(duration)
