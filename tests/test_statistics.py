"""Reciprocity figures: every figure on known reports (SQLite and PostgreSQL), the chat text, the CSV."""

from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.config import load_config, parse_config
from bot.park_setup import apply_parks
from handlers.i18n import LANGUAGES, Translator, load_catalog, placeholders
from handlers.statistics import (ALL_TIME_START, MESSAGE_LIMIT, CategoryFigures, ParkFigures, PeriodError,
                                 RoleFigures, figure_rows, figures_access, figures_to_csv, nearest_rank,
                                 park_figures, parse_period, period_label, render_figures)
from storage.models import Category, Park, Person, Report, Role
from tests.conftest import TEST_TOKEN
from tests.harness import OTHER_PARK, PARK, park_table
from tests.test_cli import weerbaar, write_config

NOW = datetime(2026, 11, 30, 8, 0)  # Monday 09:00 in Amsterdam
SINCE, UNTIL = NOW - timedelta(days=30), NOW + timedelta(days=1)
T0 = datetime(2026, 11, 20, 8, 0)
H = timedelta(hours=1)
POLICE_AND_MUNICIPALITY = ["police", "municipality"]


def configure(db) -> None:
    raw = {"parks": [park_table(PARK, "De Spaanse Polder", "SP"), park_table(OTHER_PARK, "Noorderveld", "NV")]}
    with db.transaction() as session:
        apply_parks(session, parse_config(raw, environ={}))


class Reports:
    """Writes reports straight into the database, numbered per park."""

    def __init__(self, session: Session, slug: str):
        self.session = session
        self.park = session.exec(select(Park).where(Park.slug == slug)).one()
        self.categories = {c.key: c for c in session.exec(select(Category).where(Category.park_id == self.park.id))}
        reporter = Person(platform="telegram", external_id=f"reporter-{slug}", created_at=T0)
        session.add(reporter)
        session.flush()
        self.reporter_id = reporter.id

    def add(self, category: str, roles: list[str], created_at: datetime = T0, feedback_after: timedelta | None = None,
            **fields) -> Report:
        self.park.last_report_number += 1
        report = Report(park_id=self.park.id, number=self.park.last_report_number,
                        category_id=self.categories[category].id, roles=roles, when_kind="now", what="x",
                        reporter_person_id=self.reporter_id, created_at=created_at,
                        first_feedback_at=created_at + feedback_after if feedback_after is not None else None,
                        **fields)
        self.session.add(report)
        self.session.add(self.park)
        self.session.flush()
        return report


def seed(db) -> int:
    """The reports every figure below is computed from; returns the park id."""
    configure(db)
    with db.transaction() as session:
        sp = Reports(session, PARK)
        sp.add("drugs", POLICE_AND_MUNICIPALITY, feedback_after=1 * H, rating="answered", status="closed")
        sp.add("drugs", POLICE_AND_MUNICIPALITY, feedback_after=3 * H, rating="not_enough", reminder_count=1)
        sp.add("vastgoed", ["municipality"], feedback_after=2 * H, rating="answered")
        sp.add("vastgoed", ["municipality"], reminder_count=2, next_reminder_at=NOW + H)      # overdue: reminded
        sp.add("brand", ["fire_brigade"], next_reminder_at=NOW - timedelta(minutes=1))       # overdue: reminder due
        sp.add("brand", ["fire_brigade"], next_reminder_at=NOW + H)                          # not yet overdue
        sp.add("drugs", POLICE_AND_MUNICIPALITY, status="withdrawn", reminder_count=1)       # withdrawn
        sp.add("drugs", POLICE_AND_MUNICIPALITY, feedback_after=10 * H, status="closed")
        sp.add("drugs", POLICE_AND_MUNICIPALITY, created_at=SINCE - timedelta(seconds=1), feedback_after=H)  # before
        sp.add("drugs", POLICE_AND_MUNICIPALITY, created_at=UNTIL, feedback_after=H)          # at until: outside
        nv = Reports(session, OTHER_PARK)
        nv.add("drugs", POLICE_AND_MUNICIPALITY, feedback_after=H, rating="answered")         # other park
        return sp.park.id


def numbers(figures) -> tuple:
    return (figures.reports, figures.withdrawn, figures.with_feedback, figures.median_to_feedback,
            figures.p90_to_feedback, figures.rated, figures.rated_answered, figures.overdue)


def test_the_park_figures(database):
    park_id = seed(database)
    with database.transaction() as session:
        figures = park_figures(session, park_id, SINCE, UNTIL, NOW)
    # 8 reports, 1 withdrawn; feedback after 1h, 2h, 3h, 10h (even count: the nearest-rank median is the 2nd).
    assert numbers(figures) == (8, 1, 4, 2 * H, 10 * H, 3, 2, 2)
    assert figures.considered == 7
    assert figures.feedback_share == pytest.approx(4 / 7)
    assert figures.rated_answered_share == pytest.approx(2 / 3)
    assert figures.roles is None and (figures.since, figures.until) == (SINCE, UNTIL)


def test_the_breakdown_by_category(database):
    park_id = seed(database)
    with database.transaction() as session:
        figures = park_figures(session, park_id, SINCE, UNTIL, NOW)
    by_key = {c.key: c for c in figures.by_category}
    assert [c.key for c in figures.by_category] == ["drugs", "vastgoed", "brand"]  # most reports first
    # drugs: feedback after 1h, 3h, 10h (odd count: the median is the middle one); p90 = rank ceil(2.7) = 3.
    assert numbers(by_key["drugs"]) == (4, 1, 3, 3 * H, 10 * H, 2, 1, 0)
    assert numbers(by_key["vastgoed"]) == (2, 0, 1, 2 * H, 2 * H, 1, 1, 1)
    assert numbers(by_key["brand"]) == (2, 0, 0, None, None, 0, 0, 1)
    assert by_key["brand"].feedback_share == 0 and by_key["brand"].rated_answered_share is None
    assert by_key["vastgoed"].name("en") == "Real estate" and by_key["vastgoed"].name("nl") == "Vastgoed"


def test_the_breakdown_by_role_counts_a_report_for_each_routed_role(database):
    park_id = seed(database)
    with database.transaction() as session:
        figures = park_figures(session, park_id, SINCE, UNTIL, NOW)
    by_role = {r.role: r for r in figures.by_role}
    assert [r.role for r in figures.by_role] == ["municipality", "police", "fire_brigade"]
    assert numbers(by_role["municipality"]) == (6, 1, 4, 2 * H, 10 * H, 3, 2, 1)
    assert numbers(by_role["police"]) == (4, 1, 3, 3 * H, 10 * H, 2, 1, 0)
    assert numbers(by_role["fire_brigade"]) == (2, 0, 0, None, None, 0, 0, 1)
    assert sum(r.reports for r in figures.by_role) > figures.reports


def test_an_official_sees_only_reports_routed_to_their_role(database):
    park_id = seed(database)
    with database.transaction() as session:
        municipality = park_figures(session, park_id, SINCE, UNTIL, NOW, role="municipality")
        two_roles = park_figures(session, park_id, SINCE, UNTIL, NOW, role=["police", "fire_brigade"])
    assert numbers(municipality) == (6, 1, 4, 2 * H, 10 * H, 3, 2, 1)
    assert municipality.roles == ("municipality",)
    assert [r.role for r in municipality.by_role] == ["municipality"]
    assert [(c.key, c.reports) for c in municipality.by_category] == [("drugs", 4), ("vastgoed", 2)]
    assert two_roles.reports == 6 and two_roles.roles == ("fire_brigade", "police")
    assert {r.role for r in two_roles.by_role} == {"police", "fire_brigade"}


def test_an_empty_period(database):
    park_id = seed(database)
    with database.transaction() as session:
        figures = park_figures(session, park_id, datetime(2020, 1, 1), datetime(2020, 2, 1), NOW)
    assert numbers(figures) == (0, 0, 0, None, None, 0, 0, 0)
    assert figures.feedback_share is None and figures.rated_answered_share is None
    assert figures.by_category == () and figures.by_role == ()
    texts = Translator.load()
    assert "Geen meldingen in deze periode." in render_figures(texts, "nl", "De Spaanse Polder", "jan", figures)
    assert "No reports in this period." in render_figures(texts, "en", "De Spaanse Polder", "jan", figures)


def test_figures_access_follows_the_roles_a_person_holds(database):
    park_id = seed(database)
    with database.transaction() as session:
        people = {}
        for name, role, revoked in (("admin", "admin", None), ("cop", "police", None), ("ex", "police", NOW),
                                    ("member", None, None)):
            person = Person(platform="telegram", external_id=name, created_at=T0)
            session.add(person)
            session.flush()
            if role:
                session.add(Role(person_id=person.id, park_id=park_id, role=role, verified_at=T0, revoked_at=revoked))
            people[name] = person.id
        session.flush()
        access = {name: figures_access(session, person_id, park_id) for name, person_id in people.items()}
    assert (access["admin"].allowed, access["admin"].roles) == (True, None)
    assert (access["cop"].allowed, access["cop"].roles) == (True, ("police",))
    assert access["ex"].allowed is False and access["member"].allowed is False


@pytest.mark.parametrize(("values", "median", "p90"), [
    ([1], 1, 1),
    ([1, 2], 1, 2),
    ([1, 2, 3, 4], 2, 4),
    ([1, 2, 3, 4, 5], 3, 5),
    (list(range(1, 11)), 5, 9),
    (list(range(1, 21)), 10, 18),
    (list(range(1, 12)), 6, 10),
])
def test_nearest_rank_percentiles(values, median, p90):
    assert (nearest_rank(values, 50), nearest_rank(values, 90)) == (median, p90)
    assert nearest_rank([], 50) is None


# ---- periods --------------------------------------------------------------------------------------

def test_periods_are_whole_days_in_the_parks_timezone_ending_tonight():
    zone = "Europe/Amsterdam"
    tonight = datetime(2026, 11, 30, 23, 0)  # 1 December 00:00 CET
    assert parse_period("7d", NOW, zone) == (datetime(2026, 11, 23, 23, 0), tonight, "stats.period.days")
    assert parse_period(" 14 Dagen ", NOW, zone)[0] == datetime(2026, 11, 16, 23, 0)
    assert parse_period("2w", NOW, zone)[0] == datetime(2026, 11, 16, 23, 0)
    assert parse_period("", NOW, zone) == (datetime(2026, 10, 31, 23, 0), tonight, "stats.period.days")
    assert parse_period(None, NOW, zone)[:2] == parse_period("30d", NOW, zone)[:2]
    assert parse_period("week", NOW, zone) == (datetime(2026, 11, 23, 23, 0), tonight, "stats.period.week")
    assert parse_period("maand", NOW, zone)[2] == parse_period("month", NOW, zone)[2] == "stats.period.month"
    assert parse_period("Jaar", NOW, zone)[2] == "stats.period.year"
    assert parse_period("vandaag", NOW, zone) == (datetime(2026, 11, 29, 23, 0), tonight, "stats.period.today")
    assert parse_period("1d", NOW, zone)[2] == "stats.period.today"
    assert parse_period("alles", NOW, zone) == (ALL_TIME_START, tonight, "stats.period.all")
    assert parse_period("all", NOW, zone)[2] == "stats.period.all"


def test_periods_across_the_change_to_summer_time():
    since, until, _ = parse_period("7d", datetime(2026, 3, 30, 8, 0), "Europe/Amsterdam")
    assert (since, until) == (datetime(2026, 3, 23, 23, 0), datetime(2026, 3, 30, 22, 0))


@pytest.mark.parametrize("text", ["gisteren", "0d", "-7d", "7", "99999d", "7 d d", "maand2"])
def test_an_unknown_period_raises_with_a_message_key(text):
    with pytest.raises(PeriodError) as raised:
        parse_period(text, NOW, "Europe/Amsterdam")
    assert isinstance(raised.value, ValueError)
    assert raised.value.key == "stats.error.period" and Translator.load().has(raised.value.key)


def plain_spaces(text: str) -> str:
    """CLDR puts thin and narrow no-break spaces in date ranges."""
    return text.replace("\u2009", " ").replace("\u202f", " ").replace("\xa0", " ")


def test_the_period_reads_naturally_in_both_languages():
    texts = Translator.load()
    since, until, key = parse_period("7d", NOW, "Europe/Amsterdam")
    label = {language: plain_spaces(period_label(texts, language, since, until, key, "Europe/Amsterdam"))
             for language in ("nl", "en")}
    assert label == {"nl": "laatste 7 dagen (24–30 nov 2026)", "en": "last 7 days (Nov 24 – 30, 2026)"}
    since, until, key = parse_period("alles", NOW, "Europe/Amsterdam")
    assert period_label(texts, "en", since, until, key, "Europe/Amsterdam") == "everything so far"


# ---- chat text ------------------------------------------------------------------------------------

def test_the_figures_as_a_chat_message_in_both_languages(database):
    park_id = seed(database)
    with database.transaction() as session:
        figures = park_figures(session, park_id, SINCE, UNTIL, NOW)
        police = park_figures(session, park_id, SINCE, UNTIL, NOW, role="police")
    texts = Translator.load()
    dutch = render_figures(texts, "nl", "De Spaanse Polder", "laatste 30 dagen", figures)
    assert dutch.splitlines()[:2] == ["📊 <b>Wederkerigheid: De Spaanse Polder</b>", "Periode: laatste 30 dagen"]
    for line in ("Meldingen: <b>8</b> (waarvan 1 ingetrokken; die tellen hieronder niet mee)",
                 "Terugkoppeling gekregen: <b>57%</b> (4 van 7)",
                 "Tijd tot eerste terugkoppeling: mediaan <b>2 uur</b>, 90% binnen <b>10 uur</b>",
                 "Beoordeeld door de melder: 3, waarvan „beantwoordt mijn melding”: <b>67%</b> (2)",
                 "Over tijd (herinneringsmoment voorbij, nog zonder terugkoppeling): <b>2</b>",
                 "<b>Per categorie</b>",
                 "• Drugs: meldingen 4 · terugkoppeling 100% · mediaan 3 uur · over tijd 0",
                 "• Brandgevaar: meldingen 2 · terugkoppeling 0% · mediaan – · over tijd 1",
                 "<b>Per rol</b>",
                 "• gemeente: meldingen 6 · terugkoppeling 80% · mediaan 2 uur · over tijd 1"):
        assert line in dutch.splitlines(), (line, dutch)
    english = render_figures(texts, "en", "De Spaanse Polder", "last 30 days", figures)
    for line in ("Received feedback: <b>57%</b> (4 of 7)",
                 "Time to first feedback: median <b>2 hours</b>, 90% within <b>10 hours</b>",
                 "• Real estate: reports 2 · feedback 50% · median 2 hours · overdue 1"):
        assert line in english.splitlines(), (line, english)
    only_police = render_figures(texts, "en", "De Spaanse Polder", "last 30 days", police)
    assert "Only reports routed to: police" in only_police and "municipality" not in only_police


def test_the_message_stays_under_telegrams_limit_and_escapes_names():
    def row(cls, index, **extra):
        return cls(reports=100 - index, withdrawn=0, with_feedback=1, median_to_feedback=H, p90_to_feedback=H,
                   rated=0, rated_answered=0, overdue=0, **extra)

    categories = tuple(row(CategoryFigures, i, key=f"c{i}", name_nl=f"<b>{'x' * 70}{i}", name_en=f"c{i}")
                       for i in range(40))
    roles = tuple(row(RoleFigures, i, role=f"role_{i}") for i in range(40))
    figures = ParkFigures(reports=4000, withdrawn=0, with_feedback=40, median_to_feedback=H, p90_to_feedback=H,
                          rated=0, rated_answered=0, overdue=0, park_id=1, since=SINCE, until=UNTIL, roles=None,
                          by_category=categories, by_role=roles)
    text = render_figures(Translator.load(), "nl", "Park", "periode", figures)
    assert len(text) <= MESSAGE_LIMIT
    assert "<b>xxx" not in text and "&lt;b&gt;" in text
    assert "… en nog 30" in text
    assert "Beoordeeld door de melder: nog geen" in text


def test_shares_never_round_to_all_or_nothing():
    from handlers.statistics import format_share

    assert [format_share(s, "nl") for s in (0, 0.001, 0.5, 0.996, 1, None)] == ["0%", "1%", "50%", "99%", "100%", "–"]


# ---- texts ----------------------------------------------------------------------------------------

def test_every_stats_text_exists_in_both_languages_with_the_same_placeholders():
    catalogs = {language: load_catalog(language) for language in LANGUAGES}
    keys = {language: {k for k in catalog if k.startswith("stats.")} for language, catalog in catalogs.items()}
    assert keys["nl"] == keys["en"] and len(keys["nl"]) > 20
    for key in keys["nl"]:
        assert placeholders(catalogs["nl"][key]) == placeholders(catalogs["en"][key]), key
    for word in ("", "1d", "7d", "week", "maand", "jaar", "alles"):
        assert parse_period(word, NOW, "Europe/Amsterdam")[2] in keys["nl"]


# ---- CSV ------------------------------------------------------------------------------------------

def test_csv_rows_are_park_then_categories_then_roles(database):
    park_id = seed(database)
    with database.transaction() as session:
        figures = park_figures(session, park_id, SINCE, UNTIL, NOW)
    lines = figures_to_csv(figure_rows(figures)).splitlines()
    assert lines[0] == ("scope,reports,withdrawn,with_feedback,feedback_share,median_to_feedback_s,"
                        "p90_to_feedback_s,rated,rated_answered,rated_answered_share,overdue")
    assert lines[1:] == [
        "park,8,1,4,0.5714,7200,36000,3,2,0.6667,2",
        "category:drugs,4,1,3,1.0000,10800,36000,2,1,0.5000,0",
        "category:vastgoed,2,0,1,0.5000,7200,7200,1,1,1.0000,1",
        "category:brand,2,0,0,0.0000,,,0,0,,1",
        "role:municipality,6,1,4,0.8000,7200,36000,3,2,0.6667,1",
        "role:police,4,1,3,1.0000,10800,36000,2,1,0.5000,0",
        "role:fire_brigade,2,0,0,0.0000,,,0,0,,1",
    ]


def test_stats_command_prints_csv(tmp_path):
    from bot.bootstrap import prepare_database

    config_path = write_config(tmp_path)
    db = prepare_database(load_config(config_path, environ={"WEERBAAR_TELEGRAM_TOKEN": TEST_TOKEN}))
    november = datetime(2026, 11, 10, 12, 0)
    with db.transaction() as session:
        sp = Reports(session, "spaanse-polder")
        sp.add("drugs", POLICE_AND_MUNICIPALITY, created_at=november, feedback_after=90 * timedelta(minutes=1),
               rating="answered", status="closed")
        sp.add("overig", ["police", "park_manager"], created_at=november, reminder_count=3)
        sp.add("overig", ["police", "park_manager"], created_at=datetime(2026, 12, 1, 12, 0))  # after --until
    db.engine.dispose()

    result = weerbaar("stats", "--park", "spaanse-polder", "--since", "2026-11-01", "--until", "2026-12-01",
                      "--config", str(config_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "scope,reports,withdrawn,with_feedback,feedback_share,median_to_feedback_s,p90_to_feedback_s,"
        "rated,rated_answered,rated_answered_share,overdue",
        "park,2,0,1,0.5000,5400,5400,1,1,1.0000,1",
        "category:drugs,1,0,1,1.0000,5400,5400,1,1,1.0000,0",
        "category:overig,1,0,0,0.0000,,,0,0,,1",
        "role:police,2,0,1,0.5000,5400,5400,1,1,1.0000,1",
        "role:municipality,1,0,1,1.0000,5400,5400,1,1,1.0000,0",
        "role:park_manager,1,0,0,0.0000,,,0,0,,1",
    ]

    police = weerbaar("stats", "--park", "spaanse-polder", "--since", "2026-11-01", "--until", "2026-12-01",
                      "--role", "park_manager", "--config", str(config_path))
    assert police.returncode == 0, police.stderr
    assert [line.split(",")[0] for line in police.stdout.splitlines()[1:]] == [
        "park", "category:overig", "role:park_manager"]

    def park_reports(*period: str) -> str:
        result = weerbaar("stats", "--park", "spaanse-polder", *period, "--config", str(config_path))
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()[1].split(",")[1]

    assert park_reports("--period", "7d", "--until", "2026-11-11") == "2"  # 4–10 November
    assert park_reports("--period", "7d", "--until", "2026-11-10") == "0"  # 3–9 November
    assert park_reports("--period", "alles", "--until", "2026-12-02") == "3"


def test_stats_command_refuses_what_it_cannot_answer(tmp_path):
    config = str(write_config(tmp_path))
    unknown_role = weerbaar("stats", "--park", "spaanse-polder", "--role", "sheriff", "--config", config)
    assert unknown_role.returncode == 2 and "unknown role 'sheriff'" in unknown_role.stderr
    unknown_park = weerbaar("stats", "--park", "nergens", "--config", config)
    assert unknown_park.returncode == 2 and "unknown park 'nergens'" in unknown_park.stderr
    bad_period = weerbaar("stats", "--park", "spaanse-polder", "--period", "soms", "--config", config)
    assert bad_period.returncode == 2 and "I don't know that period" in bad_period.stderr
    backwards = weerbaar("stats", "--park", "spaanse-polder", "--since", "2026-12-01", "--until", "2026-11-01",
                         "--config", config)
    assert backwards.returncode == 2 and "--since must come before --until" in backwards.stderr
