"""Reminder-policy arithmetic: working days, evenings, weekends, Dutch holidays, DST, urgent."""

from datetime import datetime, timedelta

import pytest

from handlers.i18n import Translator
from handlers.policy import describe_duration, next_reminder
from storage.models import Park, Report

HOUR = 3600


def park(**policy) -> Park:
    values = dict(slug="sp", name="SP", prefix="SP", first_reminder_after_s=2 * 86400, repeat_every_s=86400,
                  urgent_first_reminder_after_s=HOUR, urgent_repeat_every_s=HOUR, work_start="08:00",
                  work_end="18:00", work_days="1,2,3,4,5")
    values.update(policy)
    return Park(**values)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(("sent", "first", "expected"), [
    # Monday 10:00 CET + 2 working days = Wednesday 10:00 CET (09:00 UTC).
    ("2026-11-30T09:00", True, "2026-12-02T09:00"),
    # Friday 17:00 CET + 1 working day = Monday 17:00 CET.
    ("2026-12-04T16:00", False, "2026-12-07T16:00"),
    # Saturday: counting starts Monday 08:00; + 2 working days ends Tuesday 18:00 CET.
    ("2026-12-05T12:00", True, "2026-12-08T17:00"),
    # Evening 20:00 + 1 working day = the next working day's end (counting starts 08:00).
    ("2026-11-30T19:00", False, "2026-12-01T17:00"),
    # Christmas: Thursday 24 Dec 12:00 + 1 working day skips 25 and 26 Dec and the weekend.
    ("2026-12-24T11:00", False, "2026-12-28T11:00"),
    # Koningsdag 2027 (Tuesday 27 April) is skipped.
    ("2027-04-26T08:00", False, "2027-04-28T08:00"),
    # Across the start of summer time (Sunday 29 March 2026): Friday 10:00 CET → Monday 10:00 CEST.
    ("2026-03-27T09:00", False, "2026-03-30T08:00"),
    # Summer time starts on Easter Sunday 2027, and Easter Monday is a holiday: → Tuesday 10:00 CEST.
    ("2027-03-26T09:00", False, "2027-03-30T08:00"),
    # Across the end of summer time (Sunday 31 October 2027): Friday 10:00 CEST → Monday 10:00 CET.
    ("2027-10-29T08:00", False, "2027-11-01T09:00"),
])
def test_working_days_count_in_the_parks_local_time(sent, first, expected):
    report = Report(urgent=False)
    assert next_reminder(park(), report, utc(sent), first=first) == utc(expected)


def test_hours_count_as_working_hours():
    report = Report(urgent=False)
    # Monday 17:00 CET + 4 working hours = Tuesday 11:00 CET.
    assert next_reminder(park(first_reminder_after_s=4 * HOUR), report, utc("2026-11-30T16:00"), first=True) == \
        utc("2026-12-01T10:00")


def test_urgent_reports_count_wall_clock_unless_told_otherwise():
    report = Report(urgent=True)
    saturday_night = utc("2026-12-05T22:00")
    assert next_reminder(park(), report, saturday_night, first=True) == utc("2026-12-05T23:00")
    in_working_time = park(urgent_in_working_time=True)
    assert next_reminder(in_working_time, report, saturday_night, first=True) == utc("2026-12-07T08:00")


@pytest.mark.parametrize(("seconds", "working", "nl", "en"), [
    (2 * 86400, True, "2 werkdagen", "2 working days"),
    (86400 + HOUR, True, "1 werkdag 1 werkuur", "1 working day 1 working hour"),
    (90 * 60, False, "1 uur 30 minuten", "1 hour 30 minutes"),
    (30 * 60, False, "30 minuten", "30 minutes"),
])
def test_durations_read_naturally(seconds, working, nl, en):
    texts = Translator.load()
    assert describe_duration(texts, "nl", timedelta(seconds=seconds), working) == nl
    assert describe_duration(texts, "en", timedelta(seconds=seconds), working) == en
