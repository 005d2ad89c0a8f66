"""Storage behaviour on SQLite and PostgreSQL alike."""

from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.config import parse_config
from bot.park_setup import apply_parks
from storage.db import upgrade
from storage.models import Category, GroupChat, Park, Person, Report
from storage.queries import next_report_number, reports_due_for_reminder
from tests.harness import OTHER_PARK, PARK, park_table

NOW = datetime(2026, 11, 30, 8, 0)


def configure(db, **changes):
    raw = {"parks": [park_table(PARK, "De Spaanse Polder", "SP"), park_table(OTHER_PARK, "Noorderveld", "NV")]}
    raw["parks"][0].update(changes)
    with db.transaction() as session:
        apply_parks(session, parse_config(raw, environ={}))


def test_upgrade_twice_is_harmless(database):
    upgrade(database.engine)
    configure(database)
    with Session(database.engine) as session:
        assert [p.slug for p in session.exec(select(Park).order_by(Park.id))] == [PARK, OTHER_PARK]


def test_report_numbers_count_per_park(database):
    configure(database)
    with database.transaction() as session:
        sp, nv = (session.exec(select(Park).where(Park.slug == slug)).one() for slug in (PARK, OTHER_PARK))
        numbers = [next_report_number(session, sp), next_report_number(session, sp), next_report_number(session, nv)]
    assert numbers == [1, 2, 1]


def test_the_config_seeds_new_parks_and_never_overrides_the_database(database):
    configure(database)
    with database.transaction() as session:
        park = session.exec(select(Park).where(Park.slug == PARK)).one()
        park.first_reminder_after_s = 60  # changed in the chat
    configure(database, categories=park_table(PARK, "X", "SP")["categories"][:1], name="Renamed in file")
    with Session(database.engine) as session:
        park = session.exec(select(Park).where(Park.slug == PARK)).one()
        keys = [c.key for c in session.exec(select(Category).where(Category.park_id == park.id))]
    assert (park.name, park.first_reminder_after_s) == ("De Spaanse Polder", 60)
    assert keys == ["drugs", "vastgoed", "brand"]


def test_64_bit_chat_ids_round_trip(database):
    configure(database)
    with database.transaction() as session:
        person = Person(platform="telegram", external_id="7000000001", created_at=NOW)
        session.add(person)
        session.flush()
        session.add(GroupChat(park_id=1, platform="telegram", chat_id="-1009223372036854775", linked_by_person_id=person.id,
                              linked_at=NOW))
    with Session(database.engine) as session:
        assert session.exec(select(GroupChat.chat_id)).one() == "-1009223372036854775"


def test_due_reminders_are_only_open_reports_without_feedback(database):
    configure(database)
    with database.transaction() as session:
        reporter = Person(platform="telegram", external_id="1", created_at=NOW)
        session.add(reporter)
        session.flush()
        category = session.exec(select(Category)).first()

        def report(number, **fields):
            values = dict(park_id=1, number=number, category_id=category.id, when_kind="now", what="x",
                          reporter_person_id=reporter.id, created_at=NOW, next_reminder_at=NOW)
            values.update(fields)
            session.add(Report(**values))

        report(1)
        report(2, next_reminder_at=NOW + timedelta(minutes=1))
        report(3, status="withdrawn")
        report(4, first_feedback_at=NOW)
        report(5, next_reminder_at=None)
    with database.transaction() as session:
        assert [r.number for r in reports_due_for_reminder(session, NOW)] == [1]


def test_migrations_go_down_and_up_again(database):
    from alembic import command

    from storage.db import alembic_config

    command.downgrade(alembic_config(database.engine), "0001")
    upgrade(database.engine)
    configure(database)
    with Session(database.engine) as session:
        assert session.exec(select(Park)).first().slug == PARK


def test_only_durable_transactions_wait_for_the_disk_on_postgresql(database):
    """PostgreSQL: ``synchronous_commit`` is off for ordinary units of work, on for a durable one,
    and a rolled-back transaction (which undoes a SET in it) leaves the next one right."""
    if not database.is_postgresql:
        return  # SQLite's pragma is chosen per transaction as it begins (storage.db._begin_sqlite)

    def setting(durable: bool = False) -> str:
        with database.transaction(durable=durable) as session:
            return session.connection().exec_driver_sql("SHOW synchronous_commit").scalar()

    assert setting() == "off"
    assert setting(durable=True) == "on"
    assert setting() == "off"
    try:
        with database.transaction() as session:
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert [setting() for _ in range(3)] == ["off"] * 3


def test_padded_in_lists_match_the_same_rows_with_a_few_sql_texts(database):
    """The dispatcher's IN lists come in every length; padded, they render a handful of SQL texts
    (a prepared statement each in SQLite's per-connection cache) and still match exactly."""
    from sqlalchemy import event
    from sqlmodel import col

    from storage.db import padded

    configure(database)
    with database.transaction() as session:
        for n in range(1, 41):
            session.add(Person(platform="telegram", external_id=str(n), created_at=NOW))
    texts: set[str] = set()

    def seen(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        texts.add(statement)

    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        for length in range(1, 41):
            wanted = [str(n) for n in range(1, length + 1)]
            with database.transaction() as session:
                found = session.exec(select(Person.external_id).where(col(Person.external_id).in_(padded(wanted)))).all()
            assert sorted(found, key=int) == wanted
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    in_texts = {text for text in texts if " IN " in text.upper()}
    assert len(in_texts) <= 7  # lengths 1, 2, 4, 8, 16, 32, 64 (PostgreSQL renders its own way)


def test_queued_messages_are_written_in_order_seen_by_their_unit_of_work_and_dropped_with_its_rollback(database):
    """Outbox rows are inserted together (``storage.outbox_rows``), yet behave as if added one by one."""
    import pytest
    from sqlmodel import col

    from handlers.outbox import enqueue
    from storage.models import OutboxMessage

    def queue(session, text: str) -> None:
        enqueue(session, now=NOW, platform="telegram", chat_id="42", text=text)

    def texts(session) -> list[str]:
        return list(session.exec(select(OutboxMessage.text).order_by(col(OutboxMessage.id))))

    with database.transaction() as session:
        queue(session, "eerste")
        queue(session, "tweede")
        seen_meanwhile = texts(session)  # the unit of work reads its own messages
        queue(session, "derde")
    with pytest.raises(RuntimeError), database.transaction() as session:
        queue(session, "nooit")
        raise RuntimeError("the unit of work fails: its messages go with it")
    with database.transaction() as session:
        queue(session, "vierde")
        session.begin_nested().rollback()  # a savepoint undone (a membership noted twice at once)
        queue(session, "vijfde")
    with Session(database.engine) as session:
        stored = texts(session)
    assert seen_meanwhile == ["eerste", "tweede"]
    assert stored == ["eerste", "tweede", "derde", "vierde", "vijfde"]


def test_messages_queued_in_a_session_closed_without_commit_are_not_written_later(database):
    from sqlmodel import col

    from handlers.outbox import enqueue
    from storage.models import OutboxMessage

    with Session(database.engine) as session:
        enqueue(session, now=NOW, platform="telegram", chat_id="42", text="nooit verstuurd")
        session.close()  # abandoned: like an ORM object, the message goes with it
        enqueue(session, now=NOW, platform="telegram", chat_id="42", text="wel")
        session.commit()
    with Session(database.engine) as session:
        assert list(session.exec(select(OutboxMessage.text).order_by(col(OutboxMessage.id)))) == ["wel"]
