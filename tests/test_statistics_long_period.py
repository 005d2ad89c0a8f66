"""The figures of long periods (``/statistiek alles``) from monthly summaries: the same counts as
the reports give, percentiles within 0.25%, and never a stale summary, whatever changed a report
(SQLite and PostgreSQL)."""

import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, text, update
from sqlmodel import select

import storage.figures_months as figures_months
from handlers.statistics import ALL_TIME_START, SUMMARIZED_AFTER, nearest_rank, park_figures
from storage.figures_months import bucket_wait, histogram_percentile, wait_bucket
from storage.models import Category, FiguresMonth, Report
from tests.test_statistics import PARK, Reports, configure

NOW = datetime(2026, 11, 30, 8, 0)
UNTIL = datetime(2026, 12, 1, 0, 0)
ROLE_SETS = (["police", "municipality"], ["municipality"], ["fire_brigade"], ["police"])


def seed_history(db, reports: int = 240, seed: int = 7) -> int:
    """Reports spread over 30 months, with every kind of figure; returns the park id."""
    configure(db)
    draw = random.Random(seed)
    with db.transaction() as session:
        park = Reports(session, PARK)
        for index in range(reports):
            created = NOW - timedelta(days=draw.uniform(0, 900), seconds=draw.randrange(86_400))
            fields = {}
            roll = draw.random()
            if roll < 0.1:
                fields["status"] = "withdrawn"
            elif roll < 0.25:
                fields.update(reminder_count=draw.choice([0, 1, 2]), next_reminder_at=NOW + timedelta(
                    hours=draw.choice([-2, 3])))
            else:
                fields["feedback_after"] = timedelta(seconds=draw.choice(
                    [draw.randrange(0, 90), draw.randrange(60, 86_400 * 20)]))
                fields["rating"] = draw.choice([None, "answered", "not_enough"])
                fields["status"] = draw.choice(["open", "closed"])
            park.add(draw.choice(["drugs", "vastgoed", "brand"]), draw.choice(ROLE_SETS), created_at=created,
                     **fields)
        return park.park.id


def exact(db, park_id: int, since: datetime, until: datetime, roles=None, category_id=None, role=None) -> tuple:
    """The figures computed straight from the reports, as the module docstring of handlers/statistics defines."""
    with db.transaction() as session:
        rows = session.exec(select(Report).where(Report.park_id == park_id)).all()
    chosen = [r for r in rows if since <= r.created_at < until
              and (roles is None or any(name in r.roles for name in roles))
              and (category_id is None or r.category_id == category_id) and (role is None or role in r.roles)]
    considered = [r for r in chosen if r.status != "withdrawn"]
    waits = sorted(max(r.first_feedback_at - r.created_at, timedelta(0)) for r in considered if r.first_feedback_at)
    overdue = [r for r in considered if r.status == "open" and r.first_feedback_at is None
               and (r.reminder_count >= 1 or (r.next_reminder_at is not None and r.next_reminder_at <= NOW))]
    return (len(chosen), len(chosen) - len(considered), len(waits), nearest_rank(waits, 50), nearest_rank(waits, 90),
            sum(r.rating is not None for r in considered), sum(r.rating == "answered" for r in considered), len(overdue))


def close_enough(figures, expected: tuple) -> bool:
    """Counts equal; each percentile within 0.25% (and the second it is rounded to)."""
    got = (figures.reports, figures.withdrawn, figures.with_feedback, figures.median_to_feedback,
           figures.p90_to_feedback, figures.rated, figures.rated_answered, figures.overdue)
    for index, (mine, theirs) in enumerate(zip(got, expected)):
        if index in (3, 4) and mine is not None and theirs is not None:
            if abs((mine - theirs).total_seconds()) > theirs.total_seconds() * 0.0025 + 1:
                return False
        elif mine != theirs:
            return False
    return True


def assert_all_figures_match(db, park_id: int, since=ALL_TIME_START, until=UNTIL, roles=None) -> None:
    with db.transaction() as session:
        figures = park_figures(session, park_id, since, until, NOW, role=roles)
        category_ids = {category.key: category.id for category in session.exec(
            select(Category).where(Category.park_id == park_id))}
    assert close_enough(figures, exact(db, park_id, since, until, roles))
    assert figures.by_category and figures.by_role
    for category in figures.by_category:
        assert close_enough(category, exact(db, park_id, since, until, roles, category_id=category_ids[category.key]))
    for routed in figures.by_role:
        assert close_enough(routed, exact(db, park_id, since, until, roles, role=routed.role)), routed.role


def summaries(db, park_id: int) -> dict[str, tuple[int, int | None]]:
    with db.transaction() as session:
        return {row.month: (row.version, row.summary_version) for row in session.exec(
            select(FiguresMonth).where(FiguresMonth.park_id == park_id))}


def test_the_histogram_keeps_a_wait_within_a_quarter_percent():
    for seconds in (0, 1, 59, 60, 61, 3_599, 3_600, 86_399, 86_400 * 45, 86_400 * 365 * 3):
        shown = bucket_wait(wait_bucket(seconds)).total_seconds()
        assert abs(shown - seconds) <= seconds * 0.0025 + 1, seconds
    assert bucket_wait(wait_bucket(42.9)) == timedelta(seconds=42)
    assert histogram_percentile({}, 50) is None
    assert histogram_percentile({wait_bucket(10): 1, wait_bucket(20): 1}, 50) == timedelta(seconds=10)
    assert histogram_percentile({wait_bucket(10): 1, wait_bucket(20): 1}, 90) == timedelta(seconds=20)


def test_a_long_period_gives_the_reports_own_figures(database):
    park_id = seed_history(database)
    assert UNTIL - ALL_TIME_START > SUMMARIZED_AFTER
    assert_all_figures_match(database, park_id)                      # counted, summaries stored
    stored = summaries(database, park_id)
    assert len(stored) >= 29 and all(version == summary for version, summary in stored.values())
    assert_all_figures_match(database, park_id)                      # from the summaries
    assert_all_figures_match(database, park_id, roles=("municipality",))
    assert_all_figures_match(database, park_id, since=datetime(2025, 3, 17, 13), until=datetime(2026, 11, 14, 5))


def test_a_warm_long_period_reads_the_same_few_statements_however_long_the_history(database):
    park_id = seed_history(database)
    with database.transaction() as session:
        park_figures(session, park_id, ALL_TIME_START, UNTIL, NOW)
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)
    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        with database.transaction() as session:
            park_figures(session, park_id, ALL_TIME_START, UNTIL, NOW)
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    writes = [s for s in statements if s.lstrip().lower().startswith(("update", "insert"))]
    assert writes == []  # nothing was stale
    # the partial month's counts and waits, overdue, the summaries, the categories (+ the transaction's own)
    assert len([s for s in statements if "report" in s.lower()]) <= 5


def test_a_summary_follows_every_change_to_its_reports(database):
    park_id = seed_history(database, reports=120)
    assert_all_figures_match(database, park_id)
    with database.transaction() as session:
        old = session.exec(select(Report).where(Report.park_id == park_id, Report.created_at < datetime(2025, 1, 1),
                                                Report.first_feedback_at == None)  # noqa: E711
                           .order_by(Report.id)).all()
        old[0].first_feedback_at = old[0].created_at + timedelta(hours=5)  # the ORM
        session.add(old[0])
        categories = session.exec(select(Report.category_id).where(Report.park_id == park_id).distinct()).all()
        other = next(c for c in categories if c != old[1].category_id)
        session.execute(update(Report).where(Report.id == old[1].id).values(category_id=other))  # a bulk UPDATE
        session.execute(text("update report set status = 'withdrawn' where id = :id"), {"id": old[2].id})  # by hand
        session.execute(text("update report set rating = 'answered', first_feedback_at = created_at "
                             "where id = :id"), {"id": old[3].id})
    assert_all_figures_match(database, park_id)
    with database.transaction() as session:  # a report added to an old month
        template = session.exec(select(Report).where(Report.park_id == park_id).order_by(Report.number.desc())).first()
        session.add(Report(park_id=park_id, number=template.number + 1, category_id=template.category_id,
                           roles=["police"], when_kind="now", what="x", created_at=datetime(2024, 6, 3, 12),
                           first_feedback_at=datetime(2024, 7, 13, 12), rating="answered"))
    assert_all_figures_match(database, park_id)


def test_a_change_while_counting_leaves_the_month_to_be_counted_again(database, monkeypatch):
    park_id = seed_history(database, reports=60)
    counted = figures_months._counted

    def counted_while_someone_writes(session, park_id, spans, by_span=False):
        if by_span:  # the partial months at the ends
            return counted(session, park_id, spans, by_span)
        session.execute(text("update report set rating = 'not_enough' where park_id = :park and created_at >= :since "
                             "and created_at < :until and status <> 'withdrawn'"),
                        {"park": park_id, "since": datetime(2025, 5, 1), "until": datetime(2025, 6, 1)})
        return counted(session, park_id, spans)
    monkeypatch.setattr(figures_months, "_counted", counted_while_someone_writes)
    with database.transaction() as session:
        park_figures(session, park_id, ALL_TIME_START, UNTIL, NOW)
    monkeypatch.undo()
    stored = summaries(database, park_id)
    version, summary = stored["2025-05"]
    assert summary != version  # counted before the change became visible to the version: not stored
    assert all(v == s for month, (v, s) in stored.items() if month != "2025-05")
    assert_all_figures_match(database, park_id)
    assert summaries(database, park_id)["2025-05"][0] == summaries(database, park_id)["2025-05"][1]


def test_the_figures_do_not_wait_for_a_report_being_written(database):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: a reader never meets a locked month")
    park_id = seed_history(database, reports=60)
    with database.transaction() as session:
        victim = session.exec(select(Report).where(Report.park_id == park_id, Report.created_at < datetime(2025, 1, 1))
                              .order_by(Report.id)).first()
        month = f"{victim.created_at:%Y-%m}"
    writer = database.engine.connect()
    try:
        writing = writer.begin()
        writer.execute(text("update report set rating = 'answered' where id = :id"), {"id": victim.id})
        with database.transaction() as session:
            session.execute(text("set local lock_timeout = '5s'"))  # a wait would fail here rather than hang
            park_figures(session, park_id, ALL_TIME_START, UNTIL, NOW)
        assert summaries(database, park_id)[month][1] is None  # locked by the writer: left for next time
        writing.commit()
    finally:
        writer.close()
    assert_all_figures_match(database, park_id)
