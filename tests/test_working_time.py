"""Working-time arithmetic: evenings, weekends, Dutch holidays, daylight saving.

All instants are naive UTC, like the database. Comments give the Amsterdam local
time; winter is UTC+1, summer (last Sunday of March to last Sunday of October)
is UTC+2.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest

from handlers.working_time import DUTCH_RULES_SINCE, WorkingTime, _public_holidays, add_wall_clock

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WEEKDAYS = frozenset({1, 2, 3, 4, 5})


def office(**overrides) -> WorkingTime:
    """Mon–Fri 08:00–18:00 in Amsterdam with Dutch holidays, unless overridden."""
    settings = dict(
        timezone="Europe/Amsterdam", start=time(8), end=time(18), days=WEEKDAYS, country_holidays="NL"
    )
    settings.update(overrides)
    return WorkingTime(**settings)


def utc(text: str) -> datetime:
    """A naive UTC datetime from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text)


def local(moment: datetime) -> datetime:
    """The Amsterdam wall-clock view of a naive UTC instant (aware, to check the offset)."""
    return moment.replace(tzinfo=timezone.utc).astimezone(AMSTERDAM)


H = timedelta(hours=1)
M = timedelta(minutes=1)


# --- add ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        pytest.param("2026-01-13 09:00", 2 * H, "2026-01-13 11:00", id="inside-one-day"),
        pytest.param("2026-01-13 16:00", 1 * H, "2026-01-13 17:00", id="ends-exactly-at-18:00"),
        # Fri 17:00 (+1) + 2h: one hour on Friday, one on Monday -> Mon 09:00 (+1).
        pytest.param("2026-01-09 16:00", 2 * H, "2026-01-12 08:00", id="friday-to-monday-winter"),
        # Fri 17:00 (+2) + 2h -> Mon 09:00 (+2).
        pytest.param("2026-06-12 15:00", 2 * H, "2026-06-15 07:00", id="friday-to-monday-summer"),
        # Tue 20:00 (+1): counting starts Wed 08:00 -> Wed 09:00.
        pytest.param("2026-01-13 19:00", 1 * H, "2026-01-14 08:00", id="evening-start"),
        # Tue 06:00 (+1): counting starts Tue 08:00 -> Tue 08:30.
        pytest.param("2026-01-13 05:00", 30 * M, "2026-01-13 07:30", id="early-morning-start"),
        # Tue 00:30 local is still Monday 23:30 UTC: the local date decides.
        pytest.param("2026-01-12 23:30", 30 * M, "2026-01-13 07:30", id="after-local-midnight"),
        # Sat 12:00 (+1) -> Mon 08:00 + 3h = Mon 11:00.
        pytest.param("2026-01-10 11:00", 3 * H, "2026-01-12 10:00", id="weekend-start"),
        # Sun 23:59 (+1) -> Mon 08:00 + 1 minute.
        pytest.param("2026-01-11 22:59", 1 * M, "2026-01-12 07:01", id="sunday-night-start"),
        # Mon 08:00 + one working week (5 x 10h) = Fri 18:00.
        pytest.param("2026-01-12 07:00", 50 * H, "2026-01-16 17:00", id="one-working-week"),
        # Mon 08:00 + 30 working days (no holidays in Jan/Feb 2026) = Fri 13 Feb 18:00.
        pytest.param("2026-01-05 07:00", 300 * H, "2026-02-13 17:00", id="thirty-working-days"),
    ],
)
def test_add(start: str, duration: timedelta, expected: str) -> None:
    assert office().add(utc(start), duration) == utc(expected)


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        # Koningsdag Mon 27 Apr 2026: Fri 24 Apr 17:00 (+2) + 2h -> Tue 28 Apr 09:00 (+2).
        pytest.param("2026-04-24 15:00", 2 * H, "2026-04-28 07:00", id="koningsdag-on-monday"),
        # 27 Apr 2025 is a Sunday, so Koningsdag is Sat 26 Apr; Mon 28 Apr is a working day.
        pytest.param("2025-04-25 15:00", 2 * H, "2025-04-28 07:00", id="koningsdag-on-saturday"),
        # Christmas Thu 25 + Boxing Day Fri 26 Dec 2025: Wed 24 Dec 17:00 (+1) -> Mon 29 Dec 09:00.
        pytest.param("2025-12-24 16:00", 2 * H, "2025-12-29 08:00", id="christmas-thu-fri"),
        # Christmas Tue 25 + Boxing Day Wed 26 Dec 2029: Mon 24 Dec 17:00 -> Thu 27 Dec 09:00.
        pytest.param("2029-12-24 16:00", 2 * H, "2029-12-27 08:00", id="christmas-tue-wed"),
        # New Year Thu 1 Jan 2026: Wed 31 Dec 2025 17:00 -> Fri 2 Jan 09:00.
        pytest.param("2025-12-31 16:00", 2 * H, "2026-01-02 08:00", id="new-year"),
        # Easter Monday 29 Mar 2027, also the first week of summer time (28 Mar):
        # Fri 26 Mar 17:00 (+1) -> Tue 30 Mar 09:00 (+2).
        pytest.param("2027-03-26 16:00", 2 * H, "2027-03-30 07:00", id="easter-monday-2027"),
        # Ascension Thu 14 May 2026: Wed 17:00 (+2) -> Fri 15 May 09:00.
        pytest.param("2026-05-13 15:00", 2 * H, "2026-05-15 07:00", id="ascension"),
        # Whit Monday 25 May 2026: Fri 22 May 17:00 (+2) -> Tue 26 May 09:00.
        pytest.param("2026-05-22 15:00", 2 * H, "2026-05-26 07:00", id="whit-monday"),
        # Good Friday 26 Mar 2027 is a working day (module decision).
        pytest.param("2027-03-25 16:00", 2 * H, "2027-03-26 08:00", id="good-friday-works"),
        # Bevrijdingsdag Mon 5 May 2025 (lustrum year) is off: Fri 2 May 17:00 -> Tue 6 May 09:00.
        pytest.param("2025-05-02 15:00", 2 * H, "2025-05-06 07:00", id="liberation-day-2025-off"),
        # Bevrijdingsdag Tue 5 May 2026 (not a lustrum year) is a working day.
        pytest.param("2026-05-04 15:00", 2 * H, "2026-05-05 07:00", id="liberation-day-2026-works"),
    ],
)
def test_add_across_holidays(start: str, duration: timedelta, expected: str) -> None:
    assert office().add(utc(start), duration) == utc(expected)


@pytest.mark.parametrize("year", range(2024, 2041))
def test_good_friday_works_and_easter_monday_is_off_every_year(year: int) -> None:
    # Cross-check the module's own Easter date against the holidays package.
    calendar = holidays.country_holidays("NL", years=year, language="en_US")
    (easter_monday,) = calendar.get_named("Easter Monday", lookup="exact")
    good_friday = easter_monday - timedelta(days=3)
    noon = time(11)  # 12:00 or 13:00 local: inside working hours either way
    working = office()
    assert working.is_working(datetime.combine(good_friday, noon))
    assert not working.is_working(datetime.combine(easter_monday, noon))


def test_the_dutch_days_computed_here_are_the_packages_with_the_documented_adjustments() -> None:
    # From 2014 the Dutch calendar is computed without the holidays package (it imports every
    # country to build one); it must name the same days: the package's PUBLIC days without
    # Goede Vrijdag, with Bevrijdingsdag only in lustrum years.
    for year in range(DUTCH_RULES_SINCE, 2101):
        calendar = holidays.country_holidays("NL", years=year, categories=holidays.PUBLIC, language="nl")
        package = {day for day, names in calendar.items()
                   if set(names.split("; ")) - {"Goede vrijdag"} - ({"Bevrijdingsdag"} if year % 5 else set())}
        if year % 5 == 0:
            package.add(date(year, 5, 5))
        assert _public_holidays("NL", year) == package, year


def test_holidays_can_be_disabled() -> None:
    # Without holidays, Christmas Thu 25 Dec 2025 is an ordinary Thursday.
    assert office(country_holidays=None).add(utc("2025-12-24 16:00"), 2 * H) == utc("2025-12-25 08:00")


def test_koningsdag_moves_to_saturday_when_27_april_is_a_sunday() -> None:
    six_days = office(days=frozenset(range(1, 7)))
    assert not six_days.is_working(utc("2025-04-26 10:00"))  # Sat 26 Apr 2025, 12:00 (+2)
    assert six_days.is_working(utc("2025-04-19 10:00"))  # an ordinary Saturday


# --- daylight saving ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "expected", "local_expected", "offset_hours"),
    [
        # Spring forward Sun 29 Mar 2026. Fri 27 Mar 17:00 is 16:00 UTC (+1);
        # Mon 30 Mar 09:00 is 07:00 UTC (+2).
        pytest.param("2026-03-27 16:00", 2 * H, "2026-03-30 07:00", "2026-03-30 09:00", 2,
                     id="spring-forward-weekend"),
        # Mon 23 Mar 08:00 (+1) + 60h: the whole week of 50h, then 10h on Mon 30 Mar,
        # which runs 06:00-16:00 UTC (+2).
        pytest.param("2026-03-23 07:00", 60 * H, "2026-03-30 16:00", "2026-03-30 18:00", 2,
                     id="spring-forward-week"),
        # Fall back Sun 25 Oct 2026. Fri 23 Oct 17:00 is 15:00 UTC (+2);
        # Mon 26 Oct 09:00 is 08:00 UTC (+1).
        pytest.param("2026-10-23 15:00", 2 * H, "2026-10-26 08:00", "2026-10-26 09:00", 1,
                     id="fall-back-weekend"),
        pytest.param("2026-10-19 06:00", 60 * H, "2026-10-26 17:00", "2026-10-26 18:00", 1,
                     id="fall-back-week"),
        # 30 working days from Mon 15 Mar 2027 (+1): across summer time, Good Friday
        # (working) and Easter Monday (off) to Mon 26 Apr 18:00 (+2).
        pytest.param("2027-03-15 07:00", 300 * H, "2027-04-26 16:00", "2027-04-26 18:00", 2,
                     id="thirty-working-days-over-easter"),
    ],
)
def test_add_across_daylight_saving(
    start: str, duration: timedelta, expected: str, local_expected: str, offset_hours: int
) -> None:
    result = office().add(utc(start), duration)
    assert result == utc(expected)
    assert local(result).replace(tzinfo=None) == datetime.fromisoformat(local_expected)
    assert local(result).utcoffset() == timedelta(hours=offset_hours)


@pytest.mark.parametrize(
    ("moment", "working"),
    [
        ("2026-03-27 07:00", True),  # Fri 08:00 (+1): start of the day
        ("2026-03-27 06:59", False),  # Fri 07:59 (+1)
        ("2026-03-27 16:59", True),  # Fri 17:59 (+1)
        ("2026-03-27 17:00", False),  # Fri 18:00 (+1): the end is not working time
        ("2026-03-30 06:00", True),  # Mon 08:00 (+2)
        ("2026-03-30 05:59", False),  # Mon 07:59 (+2)
        ("2026-03-30 16:00", False),  # Mon 18:00 (+2)
        ("2026-03-30 15:59", True),  # Mon 17:59 (+2)
        ("2026-03-28 10:00", False),  # Saturday
        ("2026-04-27 10:00", False),  # Koningsdag
        ("2025-12-26 10:00", False),  # Boxing Day
    ],
)
def test_is_working(moment: str, working: bool) -> None:
    assert office().is_working(utc(moment)) is working


# --- zero duration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        pytest.param("2026-01-13 10:00", "2026-01-13 10:00", id="in-working-time"),
        pytest.param("2026-01-13 07:00", "2026-01-13 07:00", id="exactly-at-start"),
        pytest.param("2026-01-13 17:00", "2026-01-14 07:00", id="exactly-at-end"),
        pytest.param("2026-01-13 19:00", "2026-01-14 07:00", id="evening"),
        pytest.param("2026-01-10 11:00", "2026-01-12 07:00", id="weekend"),
        pytest.param("2026-04-27 08:00", "2026-04-28 06:00", id="koningsdag"),
    ],
)
def test_add_zero(start: str, expected: str) -> None:
    assert office().add(utc(start), timedelta(0)) == utc(expected)


# --- working_between ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param("2026-01-13 09:00", "2026-01-13 10:30", 90 * M, id="same-day"),
        pytest.param("2026-01-13 18:00", "2026-01-14 06:00", timedelta(0), id="night"),
        # Fri 16:00 (+1) to Mon 10:00 (+1): 2h + 2h.
        pytest.param("2026-01-09 15:00", "2026-01-12 09:00", 4 * H, id="over-weekend"),
        # Thu 26 Mar 2026 12:00 (+1) to Tue 31 Mar 12:00 (+2): 6+10+10+4 hours.
        pytest.param("2026-03-26 11:00", "2026-03-31 10:00", 30 * H, id="over-spring-forward"),
        pytest.param("2026-01-13 09:00", "2026-01-13 09:00", timedelta(0), id="empty"),
    ],
)
def test_working_between(a: str, b: str, expected: timedelta) -> None:
    working = office()
    assert working.working_between(utc(a), utc(b)) == expected
    assert working.working_between(utc(b), utc(a)) == -expected


def _spread_of_moments() -> list[datetime]:
    """Every 7h13m over five weeks around spring forward, Easter and Koningsdag 2027."""
    first = utc("2027-03-20 00:00")
    return [first + i * timedelta(hours=7, minutes=13) for i in range(0, 5 * 7 * 24 * 60 // 433)]


@pytest.mark.parametrize(
    "duration",
    [timedelta(0), timedelta(seconds=1), 59 * M, 10 * H, 10 * H + M, 37 * H + 17 * M, 75 * H],
    ids=str,
)
def test_working_between_inverts_add(duration: timedelta) -> None:
    working = office()
    for moment in _spread_of_moments():
        later = working.add(moment, duration)
        assert later >= moment
        assert working.working_between(moment, later) == duration, moment
        # The end of a positive duration is never outside working time (it may be
        # exactly at the end of a working period).
        if duration:
            assert working.is_working(later - timedelta(microseconds=1)), moment


def test_long_durations_step_per_day() -> None:
    # 250 working days: about a year, still computed at once.
    working = office()
    start = utc("2026-01-05 07:00")  # Mon 08:00 (+1)
    end = working.add(start, 2500 * H)
    assert working.working_between(start, end) == 2500 * H
    assert start + timedelta(days=340) < end < start + timedelta(days=380)


# --- unusual but valid configurations ----------------------------------------------------------


def test_working_hours_inside_the_skipped_hour_do_not_break() -> None:
    # Sundays 02:30-04:00: on 29 Mar 2026 02:30 does not exist in Amsterdam. It is
    # read with the winter offset (01:30 UTC), so that day has 30 minutes.
    odd = office(days=frozenset({7}), start=time(2, 30), end=time(4), country_holidays=None)
    assert odd.working_between(utc("2026-03-29 00:00"), utc("2026-03-30 00:00")) == 30 * M
    assert odd.working_between(utc("2026-03-22 00:00"), utc("2026-03-23 00:00")) == 90 * M
    moment = utc("2026-03-20 00:00")
    assert odd.working_between(moment, odd.add(moment, 2 * H)) == 2 * H
    # 02:30-03:00: on that Sunday 02:30 (winter offset) is after 03:00 (summer offset),
    # so the day has no working time at all.
    odder = office(days=frozenset({7}), start=time(2, 30), end=time(3), country_holidays=None)
    assert odder.working_between(utc("2026-03-29 00:00"), utc("2026-03-30 00:00")) == timedelta(0)
    assert not odder.is_working(utc("2026-03-29 01:15"))
    assert odder.add(utc("2026-03-28 12:00"), timedelta(0)) == utc("2026-04-05 00:30")


def test_other_timezone() -> None:
    # 09:00-17:00 in New York (-5 in January); no holidays.
    # Fri 16:30 + 1h -> Mon 09:30.
    ny = WorkingTime("America/New_York", time(9), time(17), WEEKDAYS, country_holidays=None)
    assert ny.add(utc("2026-01-09 21:30"), H) == utc("2026-01-12 14:30")


def test_holiday_calendar_is_built_lazily_per_year() -> None:
    working = office()
    assert working._holiday_cache == {}
    working.add(utc("2026-12-31 16:00"), 2 * H)
    assert set(working._holiday_cache) == {2026, 2027}


def test_equal_configurations_are_equal_and_hashable() -> None:
    a, b = office(), office(days=[5, 4, 3, 2, 1])
    a.add(utc("2026-01-13 09:00"), H)  # fills a's cache only
    assert a == b
    assert hash(a) == hash(b)
    assert b.days == WEEKDAYS


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"timezone": "Europe/Amsterdamm"}, "unknown timezone"),
        ({"timezone": ""}, "unknown timezone"),
        ({"timezone": "../etc/passwd"}, "unknown timezone"),
        ({"start": time(18), "end": time(8)}, "must be after start"),
        ({"start": time(8), "end": time(8)}, "must be after start"),
        ({"start": "08:00"}, "local time of day"),
        ({"days": frozenset()}, "at least one working day"),
        ({"days": frozenset({0, 1})}, "ISO weekday"),
        ({"days": frozenset({8})}, "ISO weekday"),
        ({"days": frozenset({"1"})}, "ISO weekday"),
        ({"country_holidays": "XX"}, "unknown holiday country"),
    ],
)
def test_invalid_configuration(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        office(**overrides)


def test_rejects_aware_datetimes_and_negative_durations() -> None:
    working = office()
    aware = datetime(2026, 1, 13, 9, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="naive UTC"):
        working.add(aware, H)
    with pytest.raises(ValueError, match="naive UTC"):
        working.is_working(aware)
    with pytest.raises(ValueError, match="naive UTC"):
        working.working_between(utc("2026-01-13 09:00"), aware)
    with pytest.raises(ValueError, match="negative"):
        working.add(utc("2026-01-13 09:00"), -H)


# --- add_wall_clock -------------------------------------------------------------------------------


def test_add_wall_clock() -> None:
    # Plain elapsed time: nights, weekends, holidays and DST do not matter.
    assert add_wall_clock(utc("2026-03-28 22:00"), 24 * H) == utc("2026-03-29 22:00")
    assert add_wall_clock(utc("2026-04-26 12:00"), timedelta(0)) == utc("2026-04-26 12:00")
    with pytest.raises(ValueError, match="naive UTC"):
        add_wall_clock(datetime(2026, 1, 1, tzinfo=timezone.utc), H)
    with pytest.raises(ValueError, match="negative"):
        add_wall_clock(utc("2026-01-01 00:00"), -H)
