"""The park scan (``/scan``): a short survey of the members about how safe the park feels.

An admin opens a scan now or plans it for a later moment (``/scan start 7d vanaf 7-12 09:00``;
a planned scan takes the park's questions as they are when it opens, and ``/scan stop``
cancels it); every member who has not opted out of park updates receives it
privately, one question at a time with buttons (a numbered list on Matrix), and a
one-tap "don't take part". Halfway, those who have not finished get one reminder. When
the scan closes, the link between people and answers is deleted: answers carry a random
respondent id; who is where in the scan is kept only as a salted hash (to prevent
double answers) and both the hash rows and the salt are deleted at closing.

The questions live in :mod:`handlers.park_scan_questions`, the results in
:mod:`handlers.park_scan_results`.
"""

import hashlib
import re
import secrets
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, delete, func, select

from handlers import audit, park_choice, park_members
from handlers.buttons import ScanChoice
from handlers.context import Context
from handlers.durations import parse_duration
from handlers.i18n import Markup, Translator, escape
from handlers.messages import Button
from handlers.outbox import enqueue_to
from handlers.park_scan_questions import (LIKERT, SKIP_OPTION, change_question, list_questions, option_label, options,
                                          park_questions, question_text)
from handlers.park_scan_results import respondents, results
from handlers.rendering import local_time
from handlers.services import Services
from storage.models import Park, ParkScan, Person, ScanAnswer, ScanProgress
from storage.queries import ADMIN, has_role

DEFAULT_DURATION = timedelta(days=7)
MAX_DURATION = timedelta(days=60)
MAX_AHEAD = timedelta(days=90)
DEFAULT_START_TIME = time(9, 0)
FROM_WORDS = ("vanaf", "from")


def person_hash(scan: ParkScan, person_id: int) -> str:
    return hashlib.sha256(f"{scan.salt}:{person_id}".encode()).hexdigest()


# ---- /scan ---------------------------------------------------------------------------------------

def command(ctx: Context, args: str) -> None:
    """``/scan``, ``/scan start [7d]``, ``/scan stop``, ``/scan resultaten``, ``/scan vragen``, ``/scan vraag N …``."""
    word, _, rest = args.strip().partition(" ")
    word = word.lower()
    if word in ("resultaten", "results"):
        parks = _reader_parks(ctx)
        if not parks:
            return ctx.reply(ctx.t("scan.not_allowed"))
        park = park_choice.choose(ctx, parks, "scan", args)
        return results(ctx, park) if park is not None else None
    parks = park_choice.admin_parks(ctx)
    if not parks:
        return ctx.reply(ctx.t("admin.not_admin"))
    park = park_choice.choose(ctx, parks, "scan", args)
    if park is None:
        return None
    current = open_scan(ctx.session, park.id) or planned_scan(ctx.session, park.id)
    if not word:
        return _status(ctx, park, current)
    if word == "start":
        if current is not None and current.status == "planned":
            return ctx.reply(ctx.t("scan.already_planned", opens=local_time(park, current.opened_at, ctx.language)))
        if current is not None:
            return ctx.reply(ctx.t("scan.already_open", closes=local_time(park, current.closes_at, ctx.language)))
        length, _, moment = _split_from(rest.strip())
        try:
            duration = parse_duration(length) if length else DEFAULT_DURATION
        except ValueError:
            return ctx.reply(ctx.t("scan.bad_duration"))
        if not timedelta(hours=1) <= duration <= MAX_DURATION:
            return ctx.reply(ctx.t("scan.bad_duration"))
        if moment is None:
            return start(ctx, park, duration)
        opens = parse_start(moment, ctx.now, park.timezone)
        if opens is None or not ctx.now < opens <= ctx.now + MAX_AHEAD:
            return ctx.reply(ctx.t("scan.bad_start", max=MAX_AHEAD.days))
        return plan(ctx, park, opens, duration)
    if word in ("vragen", "questions"):
        return list_questions(ctx, park)
    if word in ("vraag", "question"):
        return change_question(ctx, park, rest.strip())
    if word == "stop":
        if current is None:
            return ctx.reply(ctx.t("scan.none_open"))
        if current.status == "planned":
            current.status = "cancelled"
            ctx.session.add(current)
            audit.record(ctx, park, "scan.cancelled", subject=f"#{current.id}")
            return ctx.reply(ctx.t("scan.cancelled", opens=local_time(park, current.opened_at, ctx.language)))
        close(ctx.session, ctx.services.texts, current, ctx.now)
        audit.record(ctx, park, "scan.closed", subject=f"#{current.id}")
        return ctx.reply(ctx.t("scan.closed_now", respondents=respondents(ctx.session, current.id)))
    return ctx.reply(ctx.t("scan.usage"))


def _reader_parks(ctx: Context) -> list[Park]:
    """Admins and officials see results."""
    return park_choice.admin_parks(ctx) + [park for park in park_choice.official_parks(ctx)
                                           if park not in park_choice.admin_parks(ctx)]


def open_scan(session: Session, park_id: int) -> ParkScan | None:
    return session.exec(select(ParkScan).where(ParkScan.park_id == park_id, ParkScan.status == "open")).first()


def planned_scan(session: Session, park_id: int) -> ParkScan | None:
    return session.exec(select(ParkScan).where(ParkScan.park_id == park_id, ParkScan.status == "planned")).first()


def _split_from(text: str) -> tuple[str, str, str | None]:
    """``7d vanaf 7-12 09:00`` → ("7d", "vanaf", "7-12 09:00"); no ``vanaf``/``from`` → (text, "", None)."""
    words = text.split()
    for index, word in enumerate(words):
        if word.lower() in FROM_WORDS:
            return " ".join(words[:index]), word, " ".join(words[index + 1:])
    return text, "", None


DATE_PATTERNS = (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), re.compile(r"^(\d{1,2})-(\d{1,2})(?:-(\d{4}))?$"))


def parse_start(text: str, now: datetime, timezone: str) -> datetime | None:
    """``7-12``, ``7-12-2026`` or ``2026-12-07``, optionally with ``09:00`` (park time; default 09:00) → naive
    UTC. A day without a year is the next such day. None when it is no date."""
    day_text, _, time_text = text.strip().partition(" ")
    try:
        at = time.fromisoformat(time_text.strip()) if time_text.strip() else DEFAULT_START_TIME
    except ValueError:
        return None
    zone = ZoneInfo(timezone)
    today = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date()
    iso, dutch = DATE_PATTERNS[0].match(day_text), DATE_PATTERNS[1].match(day_text)
    try:
        if iso:
            day = date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        elif dutch:
            year = int(dutch.group(3)) if dutch.group(3) else today.year
            day = date(year, int(dutch.group(2)), int(dutch.group(1)))
            if not dutch.group(3) and day < today:
                day = date(year + 1, day.month, day.day)
        else:
            return None
    except ValueError:  # 31-02 and the like
        return None
    local = datetime.combine(day, at, tzinfo=zone)
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _status(ctx: Context, park: Park, current: ParkScan | None) -> None:
    if current is None:
        return ctx.reply(ctx.t("scan.status_none", park=park.name))
    if current.status == "planned":
        return ctx.reply(ctx.t("scan.status_planned", park=park.name,
                               opens=local_time(park, current.opened_at, ctx.language),
                               closes=local_time(park, current.closes_at, ctx.language)))
    finished = ctx.session.exec(select(func.count(col(ScanProgress.id))).where(
        ScanProgress.scan_id == current.id, ScanProgress.finished == True)).one()  # noqa: E712
    return ctx.reply(ctx.t("scan.status_open", park=park.name, invited=current.invited, finished=finished,
                           closes=local_time(park, current.closes_at, ctx.language)))


def start(ctx: Context, park: Park, duration: timedelta) -> None:
    """Open a scan now: every member who did not opt out receives its first question."""
    scan = ParkScan(park_id=park.id, started_by_person_id=ctx.person.id, opened_at=ctx.now,
                    remind_at=ctx.now + duration / 2, closes_at=ctx.now + duration)
    if not _open(ctx.session, ctx.services.texts, scan, park, ctx.now):
        return ctx.reply(ctx.t("scan.no_questions"))
    audit.record(ctx, park, "scan.opened", subject=f"#{scan.id}", after={"invited": scan.invited})
    return ctx.reply(ctx.t("scan.started", park=park.name, invited=scan.invited,
                           closes=local_time(park, scan.closes_at, ctx.language)))


def plan(ctx: Context, park: Park, opens: datetime, duration: timedelta) -> None:
    """Plan a scan: it opens by itself at ``opens`` (``run_due``) with the questions as they are then."""
    scan = ParkScan(park_id=park.id, started_by_person_id=ctx.person.id, status="planned", opened_at=opens,
                    remind_at=opens + duration / 2, closes_at=opens + duration)
    ctx.session.add(scan)
    ctx.session.flush()
    opens_text, closes_text = (local_time(park, moment, ctx.language) for moment in (opens, scan.closes_at))
    audit.record(ctx, park, "scan.planned", subject=f"#{scan.id}", after={"opens": opens.isoformat(),
                                                                          "closes": scan.closes_at.isoformat()})
    return ctx.reply(ctx.t("scan.planned", park=park.name, opens=opens_text, closes=closes_text))


def _open(session: Session, texts: Translator, scan: ParkScan, park: Park, now: datetime) -> bool:
    """Send the scan to the members (its questions: the park's enabled ones now); False when it has none."""
    questions = [{k: v for k, v in question.items() if k != "enabled"}
                 for question in park_questions(session, park) if question["enabled"]]
    if not questions:
        return False
    scan.questions, scan.salt, scan.status = questions, secrets.token_hex(16), "open"
    session.add(scan)
    session.flush()
    members = park_members.receivers(session, park.id)
    for member in members:
        progress = ScanProgress(scan_id=scan.id, person_hash=person_hash(scan, member.id),
                                respondent=uuid.uuid4().hex)
        session.add(progress)
        language = texts.language_for(member.language)
        enqueue_to(session, now=now, person=member, purpose="scan",
                   text=texts(language, "scan.intro", park=park.name, count=len(scan.questions),
                              closes=local_time(park, scan.closes_at, language)))
        _ask(session, texts, now, member, scan, progress)
    scan.invited = len(members)
    session.add(scan)
    return True


# ---- answering -----------------------------------------------------------------------------------

def _ask(session: Session, texts: Translator, now, person: Person, scan: ParkScan, progress: ScanProgress,
         reminder: bool = False) -> None:
    language = texts.language_for(person.language)
    question = scan.questions[progress.position]
    data = lambda value: ScanChoice(scan.id, progress.position, value)  # noqa: E731
    if question["kind"] == "likert":
        rows = [[Button(value, data=data(value)) for value in LIKERT]]
        hint = texts(language, "scan.likert_hint")
    else:
        rows = []
        for option in options(question):
            label = option_label(texts, language, question, option)
            if question["kind"] == "multi":
                label = ("☑ " if option["value"] in progress.selected else "☐ ") + label
            rows.append([Button(label, data=data(option["value"]))])
        if question["kind"] == "multi":
            rows.append([Button(texts(language, "scan.done"), data=data("done"))])
        hint = texts(language, "scan.multi_hint" if question["kind"] == "multi" else "scan.choice_hint")
    rows.append([Button(texts(language, "scan.opt_out"), data=data("x"))])
    header = texts(language, "scan.reminder" if reminder else "scan.question", number=progress.position + 1,
                   total=len(scan.questions))
    enqueue_to(session, now=now, person=person, purpose="scan", buttons=rows,
               text=Markup(f"{header}\n\n<b>{escape(question_text(texts, language, question))}</b>\n{hint}"))


def on_button(ctx: Context, scan_id: int, position: int, value: str) -> None:
    scan = ctx.session.get(ParkScan, scan_id)
    if scan is None or scan.status != "open":
        ctx.toast = ctx.t("scan.closed_already")
        return None
    progress = ctx.session.exec(select(ScanProgress).where(
        ScanProgress.scan_id == scan.id, ScanProgress.person_hash == person_hash(scan, ctx.person.id))).first()
    if progress is None or progress.finished or progress.opted_out or progress.position != position:
        ctx.toast = ctx.t("input.stale_button")
        return None
    if value == "x":
        progress.opted_out = True
        ctx.session.add(progress)
        ctx.session.exec(delete(ScanAnswer).where(ScanAnswer.scan_id == scan.id,
                                                  ScanAnswer.respondent == progress.respondent))
        return ctx.reply(ctx.t("scan.opted_out"))
    question = scan.questions[position]
    allowed = LIKERT if question["kind"] == "likert" else [option["value"] for option in options(question)]
    if question["kind"] == "multi" and value != "done":
        if value not in allowed:
            ctx.toast = ctx.t("input.stale_button")
            return None
        chosen = set(progress.selected) ^ {value}
        if value == SKIP_OPTION:
            chosen = {SKIP_OPTION} if SKIP_OPTION in chosen else set()
        else:
            chosen.discard(SKIP_OPTION)
        progress.selected = sorted(chosen)
        ctx.session.add(progress)
        return _ask(ctx.session, ctx.services.texts, ctx.now, ctx.person, scan, progress)
    if question["kind"] == "multi":
        values = progress.selected or [SKIP_OPTION]
    elif value in allowed:
        values = [value]
    else:
        ctx.toast = ctx.t("input.stale_button")
        return None
    for answer in values:
        ctx.session.add(ScanAnswer(scan_id=scan.id, respondent=progress.respondent, question=question["key"],
                                   value=answer))
    progress.position += 1
    progress.selected = []
    if progress.position >= len(scan.questions):
        progress.finished = True
        ctx.session.add(progress)
        return ctx.reply(ctx.t("scan.thanks"))
    ctx.session.add(progress)
    return _ask(ctx.session, ctx.services.texts, ctx.now, ctx.person, scan, progress)


# ---- reminders and closing -------------------------------------------------------------------------

def run_due(services: Services) -> int:
    """Send the one reminder and close scans whose time is up; returns how many scans changed."""
    changed = 0
    with services.db.transaction() as session:
        now = services.clock.now()
        scans = list(session.exec(select(ParkScan).where(col(ParkScan.status).in_(("open", "planned")))
                                  .with_for_update(skip_locked=True)))
        for scan in scans:
            if scan.status == "planned":
                if scan.opened_at <= now:
                    _open_planned(session, services.texts, scan, now)
                    changed += 1
            elif scan.closes_at <= now:
                close(session, services.texts, scan, now)
                changed += 1
            elif scan.remind_at is not None and scan.remind_at <= now:
                _remind(session, services.texts, scan, now)
                changed += 1
    return changed


def _open_planned(session: Session, texts: Translator, scan: ParkScan, now: datetime) -> None:
    """A planned scan's moment has come: it goes out, and whoever planned it hears so (while still an admin)."""
    park = session.get(Park, scan.park_id)
    planner = session.get(Person, scan.started_by_person_id)
    opened = _open(session, texts, scan, park, now)
    if not opened:  # every question was switched off since: nothing to ask
        scan.status = "cancelled"
        session.add(scan)
    if planner is not None and has_role(session, planner.id, park.id, [ADMIN]):
        language = texts.language_for(planner.language)
        text = (texts(language, "scan.planned_opened", park=park.name, invited=scan.invited,
                      closes=local_time(park, scan.closes_at, language)) if opened
                else texts(language, "scan.no_questions"))
        enqueue_to(session, now=now, person=planner, purpose="scan", text=text)


def _remind(session: Session, texts: Translator, scan: ParkScan, now) -> None:
    scan.remind_at = None
    session.add(scan)
    for member in park_members.receivers(session, scan.park_id):
        progress = session.exec(select(ScanProgress).where(
            ScanProgress.scan_id == scan.id, ScanProgress.person_hash == person_hash(scan, member.id))).first()
        if progress is not None and not progress.finished and not progress.opted_out:
            _ask(session, texts, now, member, scan, progress, reminder=True)


def close(session: Session, texts: Translator, scan: ParkScan, now) -> None:
    """Close the scan and delete everything that links people to answers."""
    scan.status, scan.closed_at, scan.salt, scan.remind_at = "closed", now, None, None
    session.add(scan)
    session.exec(delete(ScanProgress).where(ScanProgress.scan_id == scan.id))
    starter = session.get(Person, scan.started_by_person_id)
    if starter is not None and has_role(session, starter.id, scan.park_id, [ADMIN]):
        language = texts.language_for(starter.language)
        park = session.get(Park, scan.park_id)
        enqueue_to(session, now=now, person=starter, purpose="scan",
                   text=texts(language, "scan.closed_to_admin", park=park.name,
                              respondents=respondents(session, scan.id)))


