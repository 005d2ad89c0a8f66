"""Working-time arithmetic for reminder schedules.

Reminders to officials run "in working time": a park's reminder policy says, for
instance, "first reminder after 4 working hours". :class:`WorkingTime` turns such a
duration into the UTC instant at which it has elapsed, skipping evenings, nights,
non-working weekdays and public holidays. :func:`add_wall_clock` is the plain
counterpart for schedules that run around the clock (e.g. urgent reports).

Conventions
-----------
* Every ``moment`` argument and every returned instant is a **naive UTC**
  :class:`~datetime.datetime`, as stored in the database. Aware datetimes are
  refused (``ValueError``) rather than guessed at.
* ``start`` and ``end`` are local wall-clock times in ``timezone``. They stay the
  same local times across daylight-saving changes, so in Europe/Amsterdam 08:00–18:00
  is 07:00–17:00 UTC in winter (+01:00) and 06:00–16:00 UTC in summer (+02:00).
* A working period is half-open, ``[start, end)``: at exactly ``end`` it is no
  longer working time, but a duration may *elapse* exactly at ``end``
  (Friday 17:00 + 1h = Friday 18:00; Friday 17:00 + 2h = Monday 09:00).
* Working periods do not cross midnight (``end`` must be after ``start``).
* A local start or end time that does not exist on a daylight-saving day (inside
  the skipped hour) is read with the offset in force before the change, as
  :mod:`zoneinfo` does for ``fold=0``; an ambiguous one (in the repeated hour) is
  read as its first occurrence. A day whose period thereby becomes empty counts as
  non-working. With ordinary office hours none of this arises.

Holidays (decision)
-------------------
With ``country_holidays="NL"`` the non-working days are the Dutch public holidays
of the ``holidays`` package (category ``PUBLIC``), with two adjustments so that the
calendar follows common Dutch employment practice and does not change with the
package version:

* **Non-working:** Nieuwjaarsdag (1 Jan), Eerste en Tweede Paasdag, Koningsdag
  (27 Apr; 26 Apr when the 27th is a Sunday), Hemelvaartsdag, Eerste en Tweede
  Pinksterdag, Eerste en Tweede Kerstdag (25 and 26 Dec) — the days of the
  Algemene termijnenwet that most collective agreements (CAOs) give off.
* **Bevrijdingsdag (5 May)** is non-working **only in lustrum years** (years
  divisible by 5: 2025, 2030, ...). The Algemene termijnenwet names it every year,
  but many CAOs give it off only once every five years, and that is what the
  ``holidays`` package itself does; this module enforces it whatever the version.
* **Goede Vrijdag (Good Friday)** is **a working day**. It is not in the Algemene
  termijnenwet and is not a general day off in the Netherlands. Recent ``holidays``
  releases (0.109 was checked) list it as public, so it is removed here.

Where practice differs, the error is towards working time: a reminder is sent on a
day some officials are off, rather than a report waiting a day unnoticed.

From 2014 (the first Koningsdag) the Dutch days are computed here from the list above,
without the ``holidays`` package: building its Dutch calendar imports every country it
knows (~390 modules, ~17 MiB of the bot's memory and ~0.3 s at the first sweep, measured in
``make bench``). ``tests/test_working_time.py`` checks the two agree for 2014-2100.
Earlier years ask the package.

Other countries' codes use the package's ``PUBLIC`` holidays unchanged;
``country_holidays=None`` disables holidays. The calendar for a year is built on
first use and kept in the instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


__all__ = ["WorkingTime", "add_wall_clock"]

_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)

# A calendar with at least one working weekday has a working period every week but
# for a few holidays; not finding one within this many days means something is wrong.
_MAX_IDLE_DAYS = 4 * 366


def _require_naive_utc(name: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is not None:
        raise ValueError(f"{name} must be a naive UTC datetime, got {value.isoformat()}")
    return value


def _require_duration(duration: object) -> timedelta:
    if not isinstance(duration, timedelta):
        raise TypeError(f"duration must be a timedelta, got {type(duration).__name__}")
    if duration < _ZERO:
        raise ValueError(f"duration must not be negative, got {duration}")
    return duration


def add_wall_clock(moment: datetime, duration: timedelta) -> datetime:
    """``moment + duration`` in plain elapsed time (around the clock), naive UTC."""
    return _require_naive_utc("moment", moment) + _require_duration(duration)


def _easter_sunday(year: int) -> date:
    """Western (Gregorian) Easter Sunday, by the anonymous Gregorian algorithm."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


DUTCH_RULES_SINCE = 2014  # Koningsdag on 27 April (26 when the 27th is a Sunday) since 2014


def _dutch_holidays(year: int) -> frozenset[date]:
    """The Dutch non-working days of ``year`` (from 2014), as the module docstring lists them."""
    easter = _easter_sunday(year)
    kings_day = date(year, 4, 27)
    if kings_day.isoweekday() == 7:
        kings_day = date(year, 4, 26)
    days = {date(year, 1, 1), easter, easter + _ONE_DAY, kings_day, easter + timedelta(days=39),
            easter + timedelta(days=49), easter + timedelta(days=50), date(year, 12, 25), date(year, 12, 26)}
    if year % 5 == 0:
        days.add(date(year, 5, 5))  # Bevrijdingsdag, in lustrum years
    return frozenset(days)


def _public_holidays(country: str, year: int) -> frozenset[date]:
    """The non-working holidays of ``country`` in ``year`` (see the module docstring)."""
    if country == "NL" and year >= DUTCH_RULES_SINCE:
        return _dutch_holidays(year)
    import holidays as holidays_lib  # only when a calendar is needed: the library holds ~9 MiB

    calendar = holidays_lib.country_holidays(country, years=year, categories=holidays_lib.PUBLIC)
    days = set(calendar)
    if country == "NL":
        days.discard(_easter_sunday(year) - timedelta(days=2))  # Goede Vrijdag: working
        liberation_day = date(year, 5, 5)
        if year % 5 == 0:
            days.add(liberation_day)
        else:
            days.discard(liberation_day)
    return frozenset(days)


@dataclass(frozen=True)
class WorkingTime:
    """A park's working hours: when the reminder clock runs.

    Construction validates everything and raises ``ValueError`` with a message
    suitable to show after the configuration key. Instances are immutable and
    safe to share; the only state is a per-year holiday cache.
    """

    timezone: str  # IANA name, e.g. "Europe/Amsterdam"
    start: time  # local wall-clock time, e.g. 08:00
    end: time  # local wall-clock time, after start, e.g. 18:00
    days: frozenset[int]  # ISO weekdays, 1 = Monday .. 7 = Sunday
    country_holidays: str | None = "NL"  # None: no holidays

    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _holiday_cache: dict[int, frozenset[date]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if not isinstance(self.timezone, str):
            raise ValueError(
                f"timezone must be an IANA name such as 'Europe/Amsterdam', got {self.timezone!r}"
            )
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {self.timezone!r}; use an IANA name such as 'Europe/Amsterdam'"
            ) from None
        object.__setattr__(self, "_zone", zone)

        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(
                    f"{name} must be a local time of day such as 08:00, got {value!r}"
                )
        if self.end <= self.start:
            raise ValueError(
                f"end ({self.end.isoformat()}) must be after start "
                f"({self.start.isoformat()}) on the same day"
            )

        bad_days = ValueError(
            f"days must be ISO weekday numbers 1 (Monday) to 7 (Sunday), got {self.days!r}"
        )
        try:
            days = frozenset(self.days)
        except TypeError:
            raise bad_days from None
        if any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 7 for d in days):
            raise bad_days
        if not days:
            raise ValueError("days is empty: there must be at least one working day")
        object.__setattr__(self, "days", days)

        if self.country_holidays not in (None, "NL"):  # NL is known without the package (see above)
            import holidays as holidays_lib  # only when a calendar is named (see _public_holidays)

            try:
                # Only instantiates an empty calendar; years are filled in on demand.
                holidays_lib.country_holidays(self.country_holidays, years=[])
            except (NotImplementedError, AttributeError, TypeError):
                raise ValueError(
                    f"unknown holiday country {self.country_holidays!r}; "
                    "use an ISO 3166 code such as 'NL', or none"
                ) from None

    # -- calendar -----------------------------------------------------------------

    def _is_holiday(self, day: date) -> bool:
        if self.country_holidays is None:
            return False
        dates = self._holiday_cache.get(day.year)
        if dates is None:
            dates = _public_holidays(self.country_holidays, day.year)
            self._holiday_cache[day.year] = dates
        return day in dates

    def _to_utc(self, day: date, wall: time) -> datetime:
        local = datetime.combine(day, wall, tzinfo=self._zone)
        return local.astimezone(dt_timezone.utc).replace(tzinfo=None)

    def _local_date(self, moment: datetime) -> date:
        return moment.replace(tzinfo=dt_timezone.utc).astimezone(self._zone).date()

    def _period(self, day: date) -> tuple[datetime, datetime] | None:
        """The working period of local ``day`` as naive UTC ``[start, end)``, or None."""
        if day.isoweekday() not in self.days or self._is_holiday(day):
            return None
        start, end = self._to_utc(day, self.start), self._to_utc(day, self.end)
        return (start, end) if start < end else None

    # -- queries --------------------------------------------------------------------

    def is_working(self, moment: datetime) -> bool:
        """Whether the naive UTC ``moment`` lies inside a working period."""
        moment = _require_naive_utc("moment", moment)
        period = self._period(self._local_date(moment))
        return period is not None and period[0] <= moment < period[1]

    def add(self, moment: datetime, duration: timedelta) -> datetime:
        """The naive UTC instant at which ``duration`` of working time has elapsed after ``moment``.

        Counting starts at ``moment`` if that is working time, else at the next
        working period's start; a zero duration therefore gives ``moment`` itself
        or that next start. Steps one local day at a time.
        """
        moment = _require_naive_utc("moment", moment)
        remaining = _require_duration(duration)
        day = self._local_date(moment)
        idle_days = 0
        while True:
            period = self._period(day)
            if period is not None:
                start, end = period
                current = max(moment, start)
                if current < end:
                    if current + remaining <= end:
                        return current + remaining
                    remaining -= end - current
                    idle_days = 0
            idle_days += 1
            if idle_days > _MAX_IDLE_DAYS:
                raise ValueError(
                    f"no working time within {_MAX_IDLE_DAYS} days after {moment.isoformat()}"
                )
            day += _ONE_DAY

    def working_between(self, a: datetime, b: datetime) -> timedelta:
        """The working time in ``[a, b)`` (naive UTC); negative when ``b`` is before ``a``.

        ``working_between(m, add(m, d)) == d`` for every ``m`` and ``d >= 0``.
        """
        a = _require_naive_utc("a", a)
        b = _require_naive_utc("b", b)
        if b < a:
            return -self.working_between(b, a)
        total = _ZERO
        day, last = self._local_date(a), self._local_date(b)
        while day <= last:
            period = self._period(day)
            if period is not None:
                overlap = min(period[1], b) - max(period[0], a)
                if overlap > _ZERO:
                    total += overlap
            day += _ONE_DAY
        return total
