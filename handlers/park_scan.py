"""The park scan (``/scan``): a short survey of the members about how safe the park feels.

An admin opens a scan; every member who has not opted out of park updates receives it
privately, one question at a time with buttons (a numbered list on Matrix), and a
one-tap "don't take part". Halfway, those who have not finished get one reminder. When
the scan closes, the link between people and answers is deleted: answers carry a random
respondent id; who is where in the scan is kept only as a salted hash (to prevent
double answers) and both the hash rows and the salt are deleted at closing.

Results (admins and officials of the park) are shown only over at least ``MIN_RESPONDENTS``
respondents, per question as well, with the trend against the previous scan.
"""

import csv
import hashlib
import io
import secrets
import uuid
from datetime import timedelta

from babel.numbers import format_decimal
from sqlmodel import Session, col, delete, func, select

from handlers import audit, park_choice, park_members
from handlers.context import Context
from handlers.durations import parse_duration
from handlers.i18n import Markup, Translator, escape
from handlers.messages import Button
from handlers.numbers import as_id
from handlers.outbox import enqueue_to
from handlers.rendering import local_time
from handlers.services import Services
from storage.models import Park, ParkScan, Person, ScanAnswer, ScanProgress, ScanQuestionSet
from storage.queries import ADMIN, enabled_categories, has_role

MIN_RESPONDENTS = 5
DEFAULT_DURATION = timedelta(days=7)
MAX_DURATION = timedelta(days=60)
LIKERT = ("1", "2", "3", "4", "5")
BUTTON_PREFIX = "s:"
SKIP_OPTION = "none"
MAX_QUESTION = 200


def default_questions(park_categories) -> list[dict]:
    """The default question set; the signals question lists the park's own categories."""
    signals = [{"value": category.key, "nl": category.name_nl, "en": category.name_en} for category in park_categories]
    return [
        {"key": "safe", "kind": "likert"},
        {"key": "signals", "kind": "multi", "options": signals},
        {"key": "trust_police", "kind": "likert"},
        {"key": "trust_municipality", "kind": "likert"},
        {"key": "trust_park", "kind": "likert"},
        {"key": "willing", "kind": "likert"},
        {"key": "feedback", "kind": "choice", "options": [{"value": value} for value in ("yes", "no", "not_reported")]},
    ]


def park_questions(session: Session, park: Park) -> list[dict]:
    """The park's question set: the defaults with the admins' changes (switched off, own wording)."""
    changes = _question_set(session, park).changes
    return [{**question, "enabled": True, **changes.get(question["key"], {})}
            for question in default_questions(enabled_categories(session, park.id))]


def _question_set(session: Session, park: Park) -> ScanQuestionSet:
    found = session.exec(select(ScanQuestionSet).where(ScanQuestionSet.park_id == park.id)).first()
    return found or ScanQuestionSet(park_id=park.id, changes={})


def question_text(texts: Translator, language: str, question: dict) -> str:
    """The park's own wording in this language, else the built-in text."""
    return question.get(language) or texts(language, f"scan.q.{question['key']}")


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
    current = open_scan(ctx.session, park.id)
    if not word:
        return _status(ctx, park, current)
    if word == "start":
        if current is not None:
            return ctx.reply(ctx.t("scan.already_open", closes=local_time(park, current.closes_at, ctx.language)))
        try:
            duration = parse_duration(rest.strip()) if rest.strip() else DEFAULT_DURATION
        except ValueError:
            return ctx.reply(ctx.t("scan.bad_duration"))
        if not timedelta(hours=1) <= duration <= MAX_DURATION:
            return ctx.reply(ctx.t("scan.bad_duration"))
        return start(ctx, park, duration)
    if word in ("vragen", "questions"):
        return _list_questions(ctx, park)
    if word in ("vraag", "question"):
        return _change_question(ctx, park, rest.strip())
    if word == "stop":
        if current is None:
            return ctx.reply(ctx.t("scan.none_open"))
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


def _status(ctx: Context, park: Park, current: ParkScan | None) -> None:
    if current is None:
        return ctx.reply(ctx.t("scan.status_none", park=park.name))
    finished = ctx.session.exec(select(func.count(col(ScanProgress.id))).where(
        ScanProgress.scan_id == current.id, ScanProgress.finished == True)).one()  # noqa: E712
    return ctx.reply(ctx.t("scan.status_open", park=park.name, invited=current.invited, finished=finished,
                           closes=local_time(park, current.closes_at, ctx.language)))


def start(ctx: Context, park: Park, duration: timedelta) -> None:
    questions = [{k: v for k, v in question.items() if k != "enabled"}
                 for question in park_questions(ctx.session, park) if question["enabled"]]
    if not questions:
        return ctx.reply(ctx.t("scan.no_questions"))
    scan = ParkScan(park_id=park.id, started_by_person_id=ctx.person.id, questions=questions,
                    salt=secrets.token_hex(16), opened_at=ctx.now, remind_at=ctx.now + duration / 2,
                    closes_at=ctx.now + duration)
    ctx.session.add(scan)
    ctx.session.flush()
    members = park_members.receivers(ctx.session, park.id)
    for member in members:
        progress = ScanProgress(scan_id=scan.id, person_hash=person_hash(scan, member.id),
                                respondent=uuid.uuid4().hex)
        ctx.session.add(progress)
        texts = ctx.services.texts
        language = texts.language_for(member.language)
        enqueue_to(ctx.session, now=ctx.now, person=member, purpose="scan",
                   text=texts(language, "scan.intro", park=park.name, count=len(scan.questions),
                              closes=local_time(park, scan.closes_at, language)))
        _ask(ctx.session, texts, ctx.now, member, scan, progress)
    scan.invited = len(members)
    ctx.session.add(scan)
    audit.record(ctx, park, "scan.opened", subject=f"#{scan.id}", after={"invited": len(members)})
    return ctx.reply(ctx.t("scan.started", park=park.name, invited=len(members),
                           closes=local_time(park, scan.closes_at, ctx.language)))


# ---- answering -----------------------------------------------------------------------------------

def _ask(session: Session, texts: Translator, now, person: Person, scan: ParkScan, progress: ScanProgress,
         reminder: bool = False) -> None:
    language = texts.language_for(person.language)
    question = scan.questions[progress.position]
    data = lambda value: f"{BUTTON_PREFIX}{scan.id}:{progress.position}:{value}"  # noqa: E731
    if question["kind"] == "likert":
        rows = [[Button(value, data=data(value)) for value in LIKERT]]
        hint = texts(language, "scan.likert_hint")
    else:
        rows = []
        for option in _options(question):
            label = _option_label(texts, language, question, option)
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


def _options(question: dict) -> list[dict]:
    if question["kind"] == "multi":
        return [*question["options"], {"value": SKIP_OPTION}]
    return question["options"]


def _option_label(texts: Translator, language: str, question: dict, option: dict) -> str:
    if option["value"] == SKIP_OPTION:
        return texts(language, "scan.option.none")
    if question["key"] == "signals":
        return option.get(language) or option.get("nl") or option["value"]
    return texts(language, f"scan.option.{question['key']}.{option['value']}")


def parse_button(data: str) -> tuple[int, int, str] | None:
    """``s:3:0:4`` → (scan 3, question 0, value "4")."""
    if not data.startswith(BUTTON_PREFIX):
        return None
    parts = data[len(BUTTON_PREFIX):].split(":", 2)
    if len(parts) != 3 or as_id(parts[0]) is None or as_id(parts[1]) is None:
        return None
    return as_id(parts[0]), as_id(parts[1]), parts[2]


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
    allowed = LIKERT if question["kind"] == "likert" else [option["value"] for option in _options(question)]
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
        scans = list(session.exec(select(ParkScan).where(ParkScan.status == "open")
                                  .with_for_update(skip_locked=True)))
        for scan in scans:
            if scan.closes_at <= now:
                close(session, services.texts, scan, now)
                changed += 1
            elif scan.remind_at is not None and scan.remind_at <= now:
                _remind(session, services.texts, scan, now)
                changed += 1
    return changed


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


def respondents(session: Session, scan_id: int) -> int:
    return session.exec(select(func.count(func.distinct(ScanAnswer.respondent))).where(
        ScanAnswer.scan_id == scan_id)).one()


# ---- results ----------------------------------------------------------------------------------------

def results(ctx: Context, park: Park) -> None:
    """The last closed scan's results (k-anonymous), with the trend against the one before."""
    closed = list(ctx.session.exec(select(ParkScan).where(ParkScan.park_id == park.id, ParkScan.status == "closed")
                                   .order_by(col(ParkScan.closed_at).desc(), col(ParkScan.id).desc()).limit(2)))
    if not closed:
        return ctx.reply(ctx.t("scan.no_results", park=park.name))
    scan, previous = closed[0], (closed[1] if len(closed) > 1 else None)
    count = respondents(ctx.session, scan.id)
    header = ctx.t("scan.results_title", park=park.name, when=local_time(park, scan.closed_at, ctx.language),
                   respondents=count, invited=scan.invited)
    if count < MIN_RESPONDENTS:
        return ctx.reply(Markup(header + "\n" + ctx.t("scan.too_few", min=MIN_RESPONDENTS)))
    texts, language = ctx.services.texts, ctx.language
    lines = [header]
    for question in scan.questions:
        values = _values(ctx.session, scan.id, question["key"])
        lines.append("")
        lines.append(Markup(f"<b>{escape(question_text(texts, language, question))}</b>"))
        answered = len({respondent for respondent, _ in values})
        if answered < MIN_RESPONDENTS:
            lines.append(texts(language, "scan.question_too_few", min=MIN_RESPONDENTS))
            continue
        if question["kind"] == "likert":
            numbers = [int(value) for _, value in values]
            mean = sum(numbers) / len(numbers)
            spread = " · ".join(f"{v}: {numbers.count(int(v))}" for v in LIKERT)
            lines.append(texts(language, "scan.likert_line", mean=format_decimal(round(mean, 1), locale=language),
                               answered=answered, spread=spread))
            trend = _trend(ctx.session, previous, question["key"], mean, language, texts)
            if trend:
                lines.append(trend)
        else:
            for option in _options(question):
                n = sum(1 for _, value in values if value == option["value"])
                lines.append(texts(language, "scan.option_line", option=_option_label(texts, language, question, option),
                                   count=n, answered=answered))
    return ctx.reply(Markup("\n".join(lines)))


def _values(session: Session, scan_id: int, question: str) -> list[tuple[str, str]]:
    return [(a.respondent, a.value) for a in session.exec(select(ScanAnswer).where(
        ScanAnswer.scan_id == scan_id, ScanAnswer.question == question))]


def _trend(session: Session, previous: ParkScan | None, question: str, mean: float, language: str,
           texts: Translator) -> Markup | None:
    if previous is None:
        return None
    earlier = _values(session, previous.id, question)
    if len({respondent for respondent, _ in earlier}) < MIN_RESPONDENTS:
        return None
    before = sum(int(value) for _, value in earlier) / len(earlier)
    change = round(mean - before, 1)
    arrow = "▲" if change > 0 else ("▼" if change < 0 else "=")
    return texts(language, "scan.trend", arrow=arrow, change=format_decimal(abs(change), locale=language),
                 before=format_decimal(round(before, 1), locale=language))


def results_csv(session: Session, park_id: int) -> str:
    """Every closed scan of the park, one row per question and value with its count (k-anonymous)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["scan", "closed_at", "respondents", "question", "value", "count"])
    for scan in session.exec(select(ParkScan).where(ParkScan.park_id == park_id, ParkScan.status == "closed")
                             .order_by(col(ParkScan.id))):
        count = respondents(session, scan.id)
        if count < MIN_RESPONDENTS:
            continue
        for question in scan.questions:
            values = _values(session, scan.id, question["key"])
            if len({respondent for respondent, _ in values}) < MIN_RESPONDENTS:
                continue
            options = LIKERT if question["kind"] == "likert" else [option["value"] for option in _options(question)]
            for option in options:
                writer.writerow([scan.id, scan.closed_at.isoformat(), count, question["key"], option,
                                 sum(1 for _, value in values if value == option)])
    return out.getvalue()


# ---- the park's question set ---------------------------------------------------------------------------

def _list_questions(ctx: Context, park: Park) -> None:
    lines = [ctx.t("scan.questions_header", park=park.name)]
    for number, question in enumerate(park_questions(ctx.session, park), start=1):
        lines.append(ctx.t("scan.question_line", number=number, state="✅" if question["enabled"] else "⛔",
                           text=question_text(ctx.services.texts, ctx.language, question)))
    lines.append(ctx.t("scan.questions_usage"))
    return ctx.reply(Markup("\n".join(lines)))


def _change_question(ctx: Context, park: Park, args: str) -> None:
    """``vraag N uit|aan|standaard`` or ``vraag N tekst NL | EN``."""
    number, _, rest = args.partition(" ")
    questions = park_questions(ctx.session, park)
    if not number.lstrip("#").isdigit() or not 1 <= int(number.lstrip("#")) <= len(questions):
        return ctx.reply(ctx.t("scan.questions_usage"))
    question = questions[int(number.lstrip("#")) - 1]
    action, _, text = rest.strip().partition(" ")
    action = action.lower()
    question_set = _question_set(ctx.session, park)
    changes = {key: dict(value) for key, value in question_set.changes.items()}
    before = dict(changes.get(question["key"], {}))
    change = changes.setdefault(question["key"], {})
    if action in ("uit", "off", "aan", "on"):
        change["enabled"] = action in ("aan", "on")
    elif action in ("standaard", "default"):
        changes.pop(question["key"], None)
    elif action in ("tekst", "text"):
        dutch, bar, english = text.partition("|")
        dutch, english = dutch.strip(), english.strip()
        if not bar or not dutch or not english:
            return ctx.reply(ctx.t("scan.questions_usage"))
        if max(len(dutch), len(english)) > MAX_QUESTION:
            return ctx.reply(ctx.t("input.too_long", max=MAX_QUESTION, length=max(len(dutch), len(english))))
        change.update(nl=dutch, en=english)
    else:
        return ctx.reply(ctx.t("scan.questions_usage"))
    question_set.changes = changes
    ctx.session.add(question_set)
    audit.record(ctx, park, "scan.question", subject=question["key"], before=before or None,
                 after=changes.get(question["key"]))
    return _list_questions(ctx, park)
