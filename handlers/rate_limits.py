"""Per-person limits on reports, questions and invite redemptions, answered kindly.

* **Reports**: at most ``REPORTS_PER_DAY`` sent per person in 24 hours. The draft stays on its
  summary, so the report can be sent once the limit allows (the answer says when, and that
  acute danger means calling 112).
* **Questions** from an official to reporters: at most ``QUESTIONS_PER_DAY`` in 24 hours.
* **Invite codes**: after ``CODE_FAILURES`` unknown codes within ``CODE_WINDOW`` a person can
  redeem nothing (not even a right code) until the window has passed, which slows guessing
  to a few tries an hour. At that moment the admins of the parks the person is connected to
  (by a role or a report; without any: of every park) are told once a day: who, on which
  platform and how many tries — never the guessed values.

Counts come from the tables that already record the act (reports, report events); wrong
codes are recorded in ``RateEvent`` and swept with the prompts (see ``handlers.retention``).
"""

from datetime import datetime, timedelta

from babel.dates import format_timedelta
from sqlmodel import col, select

from handlers.context import Context
from storage.models import Park, RateEvent, Report, ReportEvent, Role
from storage.queries import ADMIN, people_with_roles

DAY = timedelta(hours=24)
REPORTS_PER_DAY = 5
QUESTIONS_PER_DAY = 20
CODE_FAILURES = 5
CODE_WINDOW = timedelta(hours=1)
CODE_FAILURE, CODE_ALERT = "invite_failure", "invite_alert"


def may_report(ctx: Context) -> bool:
    """Whether the person may send another report now; if not, they are told kindly when they can."""
    since = ctx.now - DAY
    moments = ctx.session.exec(select(Report.created_at).where(
        Report.reporter_person_id == ctx.person.id, col(Report.created_at) > since)
        .order_by(col(Report.created_at))).all()
    if len(moments) < REPORTS_PER_DAY:
        return True
    ctx.reply(ctx.t("limit.reports", count=REPORTS_PER_DAY, wait=_wait(ctx, moments, REPORTS_PER_DAY, DAY)))
    return False


def may_ask(ctx: Context) -> bool:
    """Whether the official may ask a reporter another question now."""
    since = ctx.now - DAY
    moments = ctx.session.exec(select(ReportEvent.created_at).where(
        ReportEvent.person_id == ctx.person.id, ReportEvent.kind == "question",
        col(ReportEvent.created_at) > since).order_by(col(ReportEvent.created_at))).all()
    if len(moments) < QUESTIONS_PER_DAY:
        return True
    ctx.reply(ctx.t("limit.questions", count=QUESTIONS_PER_DAY, wait=_wait(ctx, moments, QUESTIONS_PER_DAY, DAY)))
    return False


def may_redeem(ctx: Context) -> bool:
    """Whether the person may try an invite code now (not after too many wrong ones)."""
    moments = _code_failures(ctx)
    if len(moments) < CODE_FAILURES:
        return True
    ctx.reply(ctx.t("limit.codes", wait=_wait(ctx, moments, CODE_FAILURES, CODE_WINDOW)))
    return False


def redeem_failed(ctx: Context) -> None:
    """Record an unknown code; at the limit, tell the admins concerned (once a day)."""
    ctx.session.add(RateEvent(person_id=ctx.person.id, kind=CODE_FAILURE, created_at=ctx.now))
    ctx.session.flush()
    failures = len(_code_failures(ctx))
    if failures < CODE_FAILURES:
        return
    alerted = ctx.session.exec(select(RateEvent.id).where(
        RateEvent.person_id == ctx.person.id, RateEvent.kind == CODE_ALERT,
        col(RateEvent.created_at) > ctx.now - DAY)).first()
    if alerted is not None:
        return
    ctx.session.add(RateEvent(person_id=ctx.person.id, kind=CODE_ALERT, created_at=ctx.now))
    for park in _parks_concerned(ctx):
        for admin in people_with_roles(ctx.session, park.id, [ADMIN]):
            ctx.send_to(admin, ctx.t_for(admin, "limit.codes_admin", park=park.name, name=ctx.person.display_name,
                                         platform=ctx.person.platform, count=failures), purpose="alert")


def _code_failures(ctx: Context) -> list[datetime]:
    return list(ctx.session.exec(select(RateEvent.created_at).where(
        RateEvent.person_id == ctx.person.id, RateEvent.kind == CODE_FAILURE,
        col(RateEvent.created_at) > ctx.now - CODE_WINDOW).order_by(col(RateEvent.created_at))).all())


def _parks_concerned(ctx: Context) -> list[Park]:
    ids = set(ctx.session.exec(select(Role.park_id).where(Role.person_id == ctx.person.id)).all())
    ids |= set(ctx.session.exec(select(Report.park_id).where(Report.reporter_person_id == ctx.person.id)).all())
    if not ids:
        ids = set(ctx.session.exec(select(Park.id)).all())
    return [ctx.session.get(Park, park_id) for park_id in sorted(ids)]


def _wait(ctx: Context, moments: list[datetime], limit: int, window: timedelta) -> str:
    """How long until one more is allowed, as people say it ("3 uur", "45 minutes")."""
    free_at = moments[len(moments) - limit] + window
    remaining = max(free_at - ctx.now, timedelta(minutes=1))
    return format_timedelta(remaining, threshold=1.5, locale=ctx.language)



# ---- floods -------------------------------------------------------------------------------------

FLOOD_MESSAGES = 30
FLOOD_WINDOW = timedelta(minutes=1)


class FloodGuard:
    """Per person, at most ``FLOOD_MESSAGES`` messages a ``FLOOD_WINDOW`` are handled; the rest is dropped.

    Checked before any database work, so a flood from one person costs the others almost
    nothing: their messages are handled as usual, and the flooder's own reply queue stays
    short. The first dropped message gets one short notice. Kept in memory per process
    (a restart forgets it, which is harmless).
    """

    def __init__(self, limit: int = FLOOD_MESSAGES, window: timedelta = FLOOD_WINDOW):
        self.limit = limit
        self.window = window
        self._seen: dict[tuple[str, str], list[datetime]] = {}
        self._told: set[tuple[str, str]] = set()
        self._calls = 0

    def admit(self, platform: str, person: str, now: datetime) -> str:
        """``"handle"``, ``"notice"`` (drop, and say so once) or ``"drop"``."""
        if not self.limit:
            return "handle"
        self._calls += 1
        if self._calls % 1000 == 0:
            self.forget_idle(now)
        key = (platform, person)
        recent = [moment for moment in self._seen.get(key, []) if moment > now - self.window]
        if len(recent) < self.limit:
            recent.append(now)
            self._seen[key] = recent
            self._told.discard(key)
            return "handle"
        self._seen[key] = recent
        if key in self._told:
            return "drop"
        self._told.add(key)
        return "notice"

    def forget_idle(self, now: datetime) -> None:
        """Drop what is older than the window (called now and then, so memory stays small)."""
        for key in [key for key, moments in self._seen.items() if not moments or moments[-1] <= now - self.window]:
            self._seen.pop(key, None)
            self._told.discard(key)


def drop_flooded(services, incoming, notice: bool) -> None:
    """Drop one message of a flood: mark it applied (so a restart does not replay it) and, once,
    tell the person to slow down (in their private chat)."""
    from handlers.outbox import enqueue
    from storage.inbox import mark_applied

    with services.db.transaction() as session:
        now = services.clock.now()
        if incoming.update_key:
            mark_applied(session, incoming.update_key, now)
        if notice and incoming.chat.is_private:
            language = services.texts.language_for(incoming.sender.language_code)
            enqueue(session, now=now, platform=incoming.chat.platform, chat_id=incoming.chat.chat_id,
                    text=services.texts(language, "limit.flood"))
