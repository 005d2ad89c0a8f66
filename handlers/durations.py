"""Compact durations as written in the configuration: ``90s``, ``15m``, ``4h``, ``2d``, ``1w``.

Grammar (case-sensitive, ASCII digits only):

* one or more ``<whole number><unit>`` parts, units ``w`` (week), ``d`` (day),
  ``h`` (hour), ``m`` (minute), ``s`` (second);
* parts go from the largest unit to the smallest and each unit appears at most
  once (``1h30m``, ``2d 4h``; not ``30m1h`` nor ``1h1h``);
* spaces are allowed around and between parts and between a number and its unit;
* a plain whole number means seconds (``3600``);
* zero is allowed (``0s``, ``0``); negative, fractional and empty values are not.

Upper-case units are rejected on purpose: ``M`` would be read as "month" by some.

:func:`format_duration_compact` gives the canonical spelling back, so
``format_duration_compact(parse_duration(x))`` normalises ``x`` (``"90m"`` → ``"1h30m"``).
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["parse_duration", "format_duration_compact", "ACCEPTED_DURATIONS"]

#: Human description of the accepted syntax; part of every parse error message.
ACCEPTED_DURATIONS = (
    "a duration such as 90s, 15m, 4h, 2d, 1w or 1h30m "
    "(whole numbers with units w, d, h, m, s from largest to smallest; "
    "a plain number means seconds)"
)

_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_UNIT_ORDER = tuple(_UNIT_SECONDS)  # largest first

_PLAIN_NUMBER = re.compile(r"[0-9]+", re.ASCII)
_PART = re.compile(r"([0-9]+)[ \t]*([A-Za-z]+)[ \t]*", re.ASCII)

# timedelta cannot hold more than 999 999 999 days; numbers longer than this are
# refused before int() is even asked to convert them.
_MAX_DIGITS = 15


def _error(text: object, reason: str | None = None) -> ValueError:
    detail = f"; {reason}" if reason else ""
    return ValueError(f"expected {ACCEPTED_DURATIONS}, got {text!r}{detail}")


def _to_timedelta(text: object, seconds: int) -> timedelta:
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise _error(text, "the duration is too large") from None


def parse_duration(text: str | int) -> timedelta:
    """Parse a compact duration such as ``"1h30m"`` into a :class:`~datetime.timedelta`.

    An ``int`` (what a TOML file gives for an unquoted number) is taken as seconds.
    Raises :class:`ValueError` with a message naming the accepted syntax; the caller
    is expected to put the configuration key in front of it.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise _error(text, f"not text but {type(text).__name__}")
    if isinstance(text, int):
        if text < 0:
            raise _error(text, "negative durations are not allowed")
        return _to_timedelta(text, text)

    s = text.strip(" \t")
    if not s:
        raise _error(text, "it is empty")
    if s.startswith("-"):
        raise _error(text, "negative durations are not allowed")

    if _PLAIN_NUMBER.fullmatch(s):
        if len(s) > _MAX_DIGITS:
            raise _error(text, "the duration is too large")
        return _to_timedelta(text, int(s))

    total = 0
    pos = 0
    previous_rank = -1
    while pos < len(s):
        part = _PART.match(s, pos)
        if part is None:
            raise _error(text)
        digits, unit = part.groups()
        if unit not in _UNIT_SECONDS:
            raise _error(text, f"unknown unit {unit!r}")
        rank = _UNIT_ORDER.index(unit)
        if rank <= previous_rank:
            raise _error(text, "units must go from largest to smallest, each at most once")
        if len(digits) > _MAX_DIGITS:
            raise _error(text, "the duration is too large")
        total += int(digits) * _UNIT_SECONDS[unit]
        previous_rank = rank
        pos = part.end()
    return _to_timedelta(text, total)


def format_duration_compact(duration: timedelta) -> str:
    """The canonical compact spelling of ``duration``: ``timedelta(minutes=90)`` → ``"1h30m"``.

    Zero is ``"0s"``. Negative durations and fractions of a second cannot be written
    in the syntax :func:`parse_duration` accepts and raise :class:`ValueError`.
    """
    if not isinstance(duration, timedelta):
        raise TypeError(f"expected a timedelta, got {type(duration).__name__}")
    if duration < timedelta(0):
        raise ValueError(f"cannot format a negative duration: {duration}")
    if duration.microseconds:
        raise ValueError(f"cannot format fractions of a second: {duration}")
    remaining = duration.days * 86400 + duration.seconds
    if remaining == 0:
        return "0s"
    parts = []
    for unit in _UNIT_ORDER:
        count, remaining = divmod(remaining, _UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
