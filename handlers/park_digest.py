"""The monthly park digest: an anonymous summary of the past month, posted in the park's group.

Posted on the first working day of the month (the park's working days and Dutch public
holidays) at 09:00 in the park's time zone, unless the park's admins chose another day or
time or switched it off (``/overzicht``). Figures: signals received, share with feedback,
median time to first feedback (the definitions of :mod:`handlers.statistics`), requests
answered, updates sent. Feedback figures are shown only over at least
``MIN_REPORTS`` reports, and a category only with at least that many, so nobody can be
recognised in the digest. A month with no activity at all gets no digest.

A park's first digest is the one of the month after the bot first saw it (no backlog).

With the text comes a small chart (:mod:`handlers.park_digest_chart`): the text is posted in
the sweep's transaction; the chart is drawn afterwards in the same worker thread (never on the
event loop) and enqueued in a transaction of its own, so it follows the text. Should the bot
stop between the two, that month's chart is missing and the text is not.
"""

from dataclasses import dataclass

from datetime import date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlmodel import Session, col, func, select

from handlers import audit, park_choice
from handlers.park_digest_chart import DigestChart, digest_chart, render_digest_chart
from handlers.context import Context
from handlers.i18n import Markup, Translator
from handlers.outbox import Attachment, enqueue
from handlers.policy import working_time_of
from handlers.services import Services
from handlers.statistics import format_share, format_wait, local_date, local_midnight_utc, park_figures
from storage.models import DigestSchedule, Park, ParkRequest, ParkUpdate, RequestReply
from storage.queries import groups_of_park

MIN_REPORTS = 3
FIRST_WORKING_DAY = 0
LAST_DAY_CHOICE = 28


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def schedule_of(session: Session, park: Park, now: datetime) -> DigestSchedule:
    """The park's schedule; a new one starts with the current month as done (no backlog)."""
    schedule = session.exec(select(DigestSchedule).where(DigestSchedule.park_id == park.id)).first()
    if schedule is None:
        schedule = DigestSchedule(park_id=park.id, last_period=month_key(local_date(now, park.timezone)))
        session.add(schedule)
        session.flush()
    return schedule


def due_moment(park: Park, schedule: DigestSchedule, year: int, month: int) -> datetime:
    """When the digest of the month before ``year-month`` is due (naive UTC)."""
    first = date(year, month, 1)
    if schedule.day == FIRST_WORKING_DAY:
        start = working_time_of(park).add(local_midnight_utc(first, park.timezone), timedelta(0))
        day = local_date(start, park.timezone)
    else:
        day = date(year, month, min(schedule.day, LAST_DAY_CHOICE))
    local = datetime.combine(day, time.fromisoformat(schedule.at), tzinfo=ZoneInfo(park.timezone))
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def previous_month(park: Park, today: date) -> tuple[datetime, datetime, date]:
    """``[since, until)`` in naive UTC of the calendar month before ``today``, and its first day."""
    first_this = today.replace(day=1)
    first_last = (first_this - timedelta(days=1)).replace(day=1)
    return local_midnight_utc(first_last, park.timezone), local_midnight_utc(first_this, park.timezone), first_last


@dataclass(frozen=True)
class Digest:
    text: Markup
    chart: DigestChart
    caption: Markup


def build_digest(session: Session, texts: Translator, language: str, park: Park, since: datetime, until: datetime,
                 month: date, now: datetime) -> Digest | None:
    """The digest of ``[since, until)``, text and chart; None when nothing at all happened."""
    figures = park_figures(session, park.id, since, until, now)
    requests = list(session.exec(select(ParkRequest).where(
        ParkRequest.park_id == park.id, col(ParkRequest.created_at) >= since, col(ParkRequest.created_at) < until)))
    answered = sum(1 for request in requests if session.exec(select(func.count(col(RequestReply.id))).where(
        RequestReply.request_id == request.id)).one())
    updates = session.exec(select(func.count(col(ParkUpdate.id))).where(
        ParkUpdate.park_id == park.id, col(ParkUpdate.created_at) >= since, col(ParkUpdate.created_at) < until)).one()
    if not (figures.reports or requests or updates):
        return None
    t = lambda key, **values: texts(language, key, **values)  # noqa: E731
    month_label = format_date(month, "MMMM y", locale=language)
    lines = [t("digest.title", park=park.name, month=month_label),
             t("digest.reports", count=figures.reports)]
    if figures.considered >= MIN_REPORTS:
        lines.append(t("digest.feedback", share=format_share(figures.feedback_share, language)))
        lines.append(t("digest.median", wait=format_wait(figures.median_to_feedback, language)))
    elif figures.reports:
        lines.append(t("digest.too_few", min=MIN_REPORTS))
    lines.append(t("digest.requests", answered=answered, total=len(requests)))
    lines.append(t("digest.updates", count=updates))
    shown = [category for category in figures.by_category if category.considered >= MIN_REPORTS]
    if shown:
        lines.append("")
        lines.append(t("digest.by_category"))
        for category in shown:
            lines.append(t("digest.category_line", name=category.name(language), count=category.reports,
                           share=format_share(category.feedback_share, language)))
    if len(shown) < len(figures.by_category):
        lines.append(t("digest.small_categories_hidden", min=MIN_REPORTS))
    lines.append("")
    lines.append(t("digest.footer"))
    chart = digest_chart(texts, language, park_name=park.name, month_label=month_label, reports=figures.reports,
                         requests=len(requests), answered=answered, updates=updates,
                         categories=tuple((category.name(language), category.feedback_share or 0.0)
                                          for category in shown))
    return Digest(text=Markup("\n".join(lines)), chart=chart,
                  caption=t("digest.chart.caption", park=park.name, month=month_label))


def post_due_digests(services: Services) -> int:
    """Post every digest that is due in its park's group(s); returns how many parks got one."""
    posted = 0
    texts = services.texts
    charts: list[tuple[str, str, Digest]] = []  # (platform, chat, digest) whose chart follows the text
    with services.db.transaction() as session:
        now = services.clock.now()
        for park in list(session.exec(select(Park).order_by(col(Park.id)))):
            schedule_of(session, park, now)  # a park seen for the first time gets its schedule
        due = session.exec(select(DigestSchedule, Park).join(Park, col(Park.id) == col(DigestSchedule.park_id))
                           .where(DigestSchedule.enabled == True)  # noqa: E712
                           .order_by(col(DigestSchedule.id)).with_for_update(skip_locked=True, of=DigestSchedule))
        for schedule, park in list(due):
            today = local_date(now, park.timezone)
            if schedule.last_period == month_key(today):
                continue
            if now < due_moment(park, schedule, today.year, today.month):
                continue
            schedule.last_period = month_key(today)
            session.add(schedule)
            since, until, month = previous_month(park, today)
            language = texts.language_for(park.language)
            posted_here = False
            for group in groups_of_park(session, park.id):
                digest = build_digest(session, texts.on(group.platform), language, park, since, until, month, now)
                if digest is not None:
                    enqueue(session, now=now, platform=group.platform, chat_id=group.chat_id, text=digest.text,
                            purpose="digest")
                    charts.append((group.platform, group.chat_id, digest))
                    posted_here = True
            posted += posted_here
    _send_charts(services, charts)
    return posted


def _send_charts(services: Services, charts: list[tuple[str, str, Digest]]) -> None:
    """Draw each digest's chart (once per park and language) and post it after its text."""
    if not charts:
        return
    drawn: dict[DigestChart, Attachment] = {}
    for _, _, digest in charts:
        if digest.chart not in drawn:
            drawn[digest.chart] = render_digest_chart(digest.chart)
    with services.db.transaction() as session:
        now = services.clock.now()
        for platform, chat_id, digest in charts:
            enqueue(session, now=now, platform=platform, chat_id=chat_id, text=digest.caption,
                    attachment=drawn[digest.chart], purpose="digest")


# ---- /overzicht -----------------------------------------------------------------------------------

def command(ctx: Context, args: str) -> None:
    """``/overzicht [aan|uit|dag N|dag werkdag|tijd HH:MM|voorbeeld]`` for the park's admins."""
    parks = park_choice.admin_parks(ctx)
    if not parks:
        return ctx.reply(ctx.t("admin.not_admin"))
    park = park_choice.choose(ctx, parks, "overzicht", args)
    if park is None:
        return None
    schedule = schedule_of(ctx.session, park, ctx.now)
    word, _, value = args.strip().lower().partition(" ")
    value = value.strip()
    before = {"enabled": schedule.enabled, "day": schedule.day, "at": schedule.at}
    if not word:
        return _show(ctx, park, schedule)
    if word in ("voorbeeld", "preview"):
        return _preview(ctx, park)
    if word in ("aan", "on", "uit", "off"):
        schedule.enabled = word in ("aan", "on")
    elif word in ("dag", "day"):
        if value in ("werkdag", "workday", "0"):
            schedule.day = FIRST_WORKING_DAY
        elif value.isdigit() and 1 <= int(value) <= LAST_DAY_CHOICE:
            schedule.day = int(value)
        else:
            return ctx.reply(ctx.t("digest.bad_day", max=LAST_DAY_CHOICE))
    elif word in ("tijd", "time"):
        try:
            at = time.fromisoformat(value)
        except ValueError:
            return ctx.reply(ctx.t("digest.bad_time"))
        if len(value) != 5:
            return ctx.reply(ctx.t("digest.bad_time"))
        schedule.at = at.strftime("%H:%M")
    else:
        return ctx.reply(ctx.t("digest.usage"))
    ctx.session.add(schedule)
    after = {"enabled": schedule.enabled, "day": schedule.day, "at": schedule.at}
    audit.record(ctx, park, "digest.schedule", before=before, after=after)
    return _show(ctx, park, schedule)


def _show(ctx: Context, park: Park, schedule: DigestSchedule) -> None:
    if not schedule.enabled:
        return ctx.reply(ctx.t("digest.state_off", park=park.name))
    day = ctx.t("digest.first_working_day") if schedule.day == FIRST_WORKING_DAY else ctx.t(
        "digest.day_of_month", day=schedule.day)
    today = local_date(ctx.now, park.timezone)
    year, month = (today.year, today.month)
    if schedule.last_period == month_key(today) or ctx.now >= due_moment(park, schedule, year, month):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    due = due_moment(park, schedule, year, month)
    local_due = due.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(park.timezone))
    return ctx.reply(ctx.t("digest.state_on", park=park.name, day=day, at=schedule.at,
                           next=format_date(local_due.date(), "full", locale=ctx.language)))


def _preview(ctx: Context, park: Park) -> None:
    """Last month's digest as the group would get it, text and chart, in the admin's private chat."""
    since, until, month = previous_month(park, local_date(ctx.now, park.timezone))
    digest = build_digest(ctx.session, ctx.services.texts.on(ctx.chat.platform), ctx.language, park, since, until,
                          month, ctx.now)
    if digest is None:
        return ctx.reply(ctx.t("digest.nothing", park=park.name))
    ctx.reply(digest.text)
    ctx.send_file_later(digest.caption, partial(render_digest_chart, digest.chart))
    return None
