"""Which parks' groups a person is in, asked of the platform only where it can matter.

A deployment may link thousands of groups; asking the platform about each on every
``/melden`` would take minutes (one ``getChatMember`` per group). So we ask only about the
parks the person is *known* in (they spoke in the park's group, or a check confirmed them
before, or they reported there, or hold a role there), or the one park a deep link or a park
button names. Answers are kept for a short while (``handlers.membership_cache``), so a person going
through a report asks the platform once. The answer itself is never taken from our records:
a known park is only where to look; a "no" from the platform forgets it.

Decision: people the bot has never seen in a group (Telegram's privacy mode hides ordinary
chatter) start their first report from the group's ``/melden`` button; after that
``/melden`` in the private chat works directly.

The membership policy (one for the whole bot: issue 10's checks and issue 12's park audiences).
A ``ParkMember`` row says "this person is in one of the park's linked groups, as far as we know":

* It is written when the platform confirms it (the check before ``/melden``, ``/signalen``,
  ``/helpen`` or a link into the private chat) or when the person speaks, uses a command or
  presses a button in the group. Such evidence also clears any misses (below).
* It is *where to look*: which parks' groups are asked about (the answer for a report is always
  the platform's own, never the row's); and *who hears the park privately*: park updates sent
  to members and the park scan go to every row that did not opt out
  (``handlers.park_members.receivers``).
* Every fresh "no" from the platform counts one miss, whoever asked: a check on demand (that
  report is refused at once, as the platform said) or the daily ``recheck``. An answer from the
  short cache counts nothing (it was counted when asked). Telegram answers a failed call as
  "no", so one miss is no proof: the membership stands. At ``MISSES_TO_LEAVE`` misses in a row
  the row is deleted, with the person's opt-out for that park (nothing is kept about people who
  left; every private update carries a one-tap opt-out again should they come back).
* A park with no linked group on the person's platform has nothing to ask: the row is kept.
"""

import asyncio
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from handlers import commands, groups, park_requests, report_flow
from handlers.buttons import DraftStep, ReportPark, unpack
from handlers.context import Context
from handlers.messages import Incoming
from storage.models import GroupChat, Park, ParkMember, Person, Report, ReportDraft, Role
from storage.queries import groups_of_park

KNOWN = "known"
MISSES_TO_LEAVE = 2
RECHECK_EVERY = timedelta(days=1)
RECHECK_BATCH = 100


def parks_to_check(incoming: Incoming) -> str | int | tuple[str, int] | None:
    """What a private message needs to know: the person's known parks, one named park, the park of
    the draft being sent (``("draft", id)``: asked again, they may have left the group), or nothing."""
    if not incoming.chat.is_private:
        return None
    pressed = unpack(incoming.press.data) if incoming.press else None
    if isinstance(pressed, DraftStep) and (pressed.step, pressed.value) == (report_flow.SUMMARY, "send"):
        return ("draft", pressed.draft_id)
    if incoming.command == "start" and (slug := park_requests.park_of_payload(incoming.args.strip())) is not None:
        return slug  # the "I can help" link under a request names its park
    if commands.needs_membership(incoming.command):
        return KNOWN
    if incoming.command == "start" and incoming.args.startswith(groups.REPORT_PAYLOAD_PREFIX):
        return incoming.args[len(groups.REPORT_PAYLOAD_PREFIX):].strip().lower()
    if isinstance(pressed, ReportPark):
        return pressed.park_id
    return None


async def confirmed_parks(services, incoming: Incoming) -> set[int]:
    """Parks whose linked group the sender is in, asked of the platform before any transaction."""
    wanted = parks_to_check(incoming)
    port = services.platforms.get(incoming.chat.platform)
    if wanted is None or port is None:
        return set()
    platform, user = incoming.chat.platform, incoming.sender.external_id
    def lookup() -> tuple[int | None, list[tuple[int, str]]]:
        with Session(services.db.engine) as session:
            person = session.exec(select(Person.id).where(
                Person.platform == platform, Person.external_id == user)).first()
            return person, _groups_to_ask(session, platform, person, wanted)

    person_id, groups_to_ask = await services.db.run(lookup)  # off the event loop
    now = services.clock.now()
    cache = services.membership_cache

    sending = isinstance(wanted, tuple)  # sending a report: always ask afresh, they may have just left

    async def ask(chat_id: str) -> tuple[bool, bool]:
        """(the answer, whether the platform was asked just now)."""
        key = (platform, chat_id, user)
        answer = None if sending else cache.get(key, now)
        if answer is not None:
            return answer, False
        answer = await port.is_group_member(chat_id, user)
        cache.put(key, answer, now)
        return answer, True

    answers = await asyncio.gather(*(ask(chat_id) for _, chat_id in groups_to_ask))
    member_of = {park_id for (park_id, _), (yes, _) in zip(groups_to_ask, answers) if yes}
    asked_now = {park_id for (park_id, _), (_, fresh) in zip(groups_to_ask, answers) if fresh}
    missed = asked_now - member_of
    if person_id is not None and missed:
        await services.db.run(lambda: _count_misses(services, person_id, missed, now))
    return member_of


def _groups_to_ask(session: Session, platform: str, person_id: int | None, wanted) -> list[tuple[int, str]]:
    query = select(GroupChat.park_id, GroupChat.chat_id).where(GroupChat.platform == platform)
    if isinstance(wanted, tuple):  # the "send" press of a draft: the draft's park
        draft = session.get(ReportDraft, wanted[1])
        if draft is None:
            return []
        wanted = draft.park_id
    if wanted == KNOWN:
        if person_id is None:
            return []
        query = query.where(col(GroupChat.park_id).in_(known_parks(session, person_id)))
    elif isinstance(wanted, str):
        query = query.join(Park, col(Park.id) == col(GroupChat.park_id)).where(Park.slug == wanted)
    else:
        query = query.where(GroupChat.park_id == wanted)
    return list(session.exec(query.order_by(col(GroupChat.park_id), col(GroupChat.id))).all())


def known_parks(session: Session, person_id: int):
    """A subquery of the parks a person is known in: seen in the group, reported there, or a role."""
    return (select(ParkMember.park_id).where(ParkMember.person_id == person_id)
            .union(select(Report.park_id).where(Report.reporter_person_id == person_id).distinct(),
                   select(Role.park_id).where(Role.person_id == person_id, col(Role.revoked_at).is_(None))))


def _count_misses(services, person_id: int, parks: set[int], now: datetime) -> None:
    """The platform just said "no" for these parks (in none of their groups): one miss each."""
    with services.db.transaction() as session:
        for member in session.exec(select(ParkMember).where(
                ParkMember.person_id == person_id, col(ParkMember.park_id).in_(parks))):
            _miss(session, member, now)


def _miss(session: Session, member: ParkMember, now: datetime) -> bool:
    """Count one "no"; the membership ends at ``MISSES_TO_LEAVE`` in a row. True when it ended."""
    member.checked_at, member.missed_checks = now, member.missed_checks + 1
    if member.missed_checks >= MISSES_TO_LEAVE:
        session.delete(member)
        return True
    session.add(member)
    return False


def remember(session: Session, person_id: int, park_id: int, now: datetime) -> None:
    """Note that the person is in the park's group (they were seen there, or the platform said so).

    Clears any misses. Written only when something changes or the last check is a day old, so
    group chatter costs no write per message.
    """
    member = session.exec(select(ParkMember).where(ParkMember.person_id == person_id,
                                                   ParkMember.park_id == park_id)).first()
    if member is not None:
        if member.missed_checks or member.checked_at is None or member.checked_at <= now - RECHECK_EVERY:
            member.checked_at, member.missed_checks = now, 0
            session.add(member)
        return
    try:
        with session.begin_nested():  # someone else's message may have noted it a moment ago
            session.add(ParkMember(person_id=person_id, park_id=park_id, since=now, checked_at=now))
    except IntegrityError:
        pass


def remember_confirmed(ctx: Context) -> None:
    """Remember the parks the platform confirmed before this message was handled."""
    for park_id in sorted(ctx.member_of_parks):
        remember(ctx.session, ctx.person.id, park_id, ctx.now)


async def recheck(services) -> int:
    """Ask the platform again about memberships not checked for a day (a batch); returns how many ended."""
    now = services.clock.now()
    with Session(services.db.engine) as session:
        due = session.exec(
            select(ParkMember, Person).join(Person, col(Person.id) == col(ParkMember.person_id))
            .where((col(ParkMember.checked_at).is_(None)) | (col(ParkMember.checked_at) <= now - RECHECK_EVERY))
            .order_by(col(ParkMember.checked_at)).limit(RECHECK_BATCH)).all()
        work = [(member.id, person.platform, person.external_id,
                 [group.chat_id for group in groups_of_park(session, member.park_id, person.platform)])
                for member, person in due]
    answers: dict[int, bool | None] = {}
    for member_id, platform, external_id, chat_ids in work:
        port = services.platforms.get(platform)
        if port is None or not chat_ids:
            answers[member_id] = None  # nothing to ask: kept as it is
            continue
        found = False
        for chat_id in chat_ids:
            if await port.is_group_member(chat_id, external_id):
                found = True
                break
        answers[member_id] = found
    ended = 0
    with services.db.transaction() as session:
        for member_id, found in answers.items():
            member = session.get(ParkMember, member_id)
            if member is None:
                continue
            if found is False:
                ended += _miss(session, member, now)
            else:
                member.checked_at, member.missed_checks = now, 0
                session.add(member)
    return ended
