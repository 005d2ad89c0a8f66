"""The chart's months, from the monthly summaries, give what the park's figures give month by month:
the same counts, and medians within the histogram's 0.25%."""

from datetime import datetime, timedelta

from handlers.statistics import park_figures
from handlers.statistics import local_midnight_utc
from storage.figures_months import feedback_by_period
from tests.test_statistics import H, NOW, POLICE_AND_MUNICIPALITY, Reports, configure
from tests.harness import PARK

MONTHS = [datetime(2026, 8, 1), datetime(2026, 9, 1), datetime(2026, 10, 1), datetime(2026, 11, 1),
          datetime(2026, 12, 1)]


def near(mine, exact) -> bool:
    """A median from the histogram: within 0.25% of the exact one (and the second it is rounded to)."""
    if mine is None or exact is None:
        return mine is exact
    return abs((mine - exact).total_seconds()) <= exact.total_seconds() * 0.0025 + 1


def same_months(months, expected) -> bool:
    return all((month.considered, month.with_feedback) == (figures.considered, figures.with_feedback)
               and near(month.median_to_feedback, figures.median_to_feedback)
               for month, figures in zip(months, expected, strict=True))


def assert_months_match(db, park_id: int, boundaries, role_filters) -> None:
    """The chart's months against the park's figures of each month, for each role filter."""
    for roles in role_filters:
        with db.transaction() as session:
            months = feedback_by_period(session, park_id, boundaries, roles)
            expected = [park_figures(session, park_id, since, until, NOW, role=roles)
                        for since, until in zip(boundaries, boundaries[1:])]
        assert same_months(months, expected), roles


def seed_months(db) -> int:
    configure(db)
    with db.transaction() as session:
        park = Reports(session, PARK)
        park.add("drugs", POLICE_AND_MUNICIPALITY, created_at=datetime(2026, 8, 3), feedback_after=5 * H)
        park.add("drugs", POLICE_AND_MUNICIPALITY, created_at=datetime(2026, 8, 31, 23), feedback_after=1 * H)
        park.add("vastgoed", ["municipality"], created_at=datetime(2026, 8, 10), feedback_after=3 * H)
        park.add("vastgoed", ["municipality"], created_at=datetime(2026, 8, 12))
        park.add("drugs", POLICE_AND_MUNICIPALITY, created_at=datetime(2026, 8, 12), status="withdrawn",
                 feedback_after=H)
        # September: none. October: one without feedback, one on the boundary of November.
        park.add("brand", ["fire_brigade"], created_at=datetime(2026, 10, 2))
        park.add("drugs", POLICE_AND_MUNICIPALITY, created_at=datetime(2026, 11, 1), feedback_after=2 * H)
        park.add("drugs", POLICE_AND_MUNICIPALITY, created_at=datetime(2026, 11, 20), feedback_after=9 * H)
        park.add("vastgoed", ["municipality"], created_at=datetime(2026, 11, 21), feedback_after=4 * H)
        park.add("drugs", POLICE_AND_MUNICIPALITY, created_at=datetime(2026, 12, 1), feedback_after=H)  # after
        return park.park.id


def test_the_months_in_one_pass_match_the_figures_month_by_month(database):
    park_id = seed_months(database)
    assert_months_match(database, park_id, MONTHS, (None, ("municipality",), ("police", "fire_brigade"), ()))
    with database.transaction() as session:
        august, september, october, november = feedback_by_period(session, park_id, MONTHS, None)
    assert (august.considered, august.with_feedback) == (4, 3) and near(august.median_to_feedback, 3 * H)
    assert (september.considered, september.median_to_feedback) == (0, None)
    assert (october.considered, october.with_feedback, october.median_to_feedback) == (1, 0, None)
    assert november.considered == 3 and near(november.median_to_feedback, 4 * H)


def test_months_of_the_parks_timezone_move_the_hours_across_utc_months(database):
    """Amsterdam's months begin an hour or two before UTC's: 31 August 23:00 UTC is September there."""
    park_id = seed_months(database)
    local = [local_midnight_utc(month.date(), "Europe/Amsterdam") for month in MONTHS]
    assert local[1] == datetime(2026, 8, 31, 22)
    assert_months_match(database, park_id, local, (None, ("municipality",)))
    with database.transaction() as session:
        august, september, _, _ = feedback_by_period(session, park_id, local, None)
    assert (august.considered, september.considered, september.with_feedback) == (3, 1, 1)


def test_one_month_alone(database):
    park_id = seed_months(database)
    with database.transaction() as session:
        [november] = feedback_by_period(session, park_id, MONTHS[3:], None)
    assert (november.considered, november.with_feedback) == (3, 3) and near(november.median_to_feedback, 4 * H)
    assert timedelta(0) < november.median_to_feedback
