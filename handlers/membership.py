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
"""

import asyncio
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from handlers import commands, groups, park_level, report_flow
from handlers.buttons import DraftStep, ReportPark, unpack
from handlers.messages import Incoming
from storage.models import GroupChat, Park, ParkMember, Person, Report, ReportDraft, Role

KNOWN = "known"


def parks_to_check(incoming: Incoming) -> str | int | tuple[str, int] | None:
    """What a private message needs to know: the person's known parks, one named park, the park of
    the draft being sent (``("draft", id)``: asked again, they may have left the group), or nothing."""
    if not incoming.chat.is_private:
        return None
    pressed = unpack(incoming.press.data) if incoming.press else None
    if isinstance(pressed, DraftStep) and (pressed.step, pressed.value) == (report_flow.SUMMARY, "send"):
        return ("draft", pressed.draft_id)
    if (park_level_parks := park_level.parks_to_check(incoming)) is not None:  # issue 12: /helpen, request links
        return KNOWN if park_level_parks == "all" else park_level_parks
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

    async def ask(chat_id: str) -> bool:
        key = (platform, chat_id, user)
        answer = None if sending else cache.get(key, now)
        if answer is None:
            answer = await port.is_group_member(chat_id, user)
            cache.put(key, answer, now)
        return answer

    answers = await asyncio.gather(*(ask(chat_id) for _, chat_id in groups_to_ask))
    member_of = {park_id for (park_id, _), yes in zip(groups_to_ask, answers) if yes}
    left = {park_id for park_id, _ in groups_to_ask} - member_of
    if person_id is not None and left:
        await services.db.run(lambda: _forget(services, person_id, left))
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


def _forget(services, person_id: int, left: set[int]) -> None:
    """The platform says the person is no longer in these parks' groups: stop asking about them."""
    with services.db.transaction() as session:
        session.exec(delete(ParkMember).where(ParkMember.person_id == person_id, col(ParkMember.park_id).in_(left)))


def remember(session: Session, person_id: int, park_id: int, now: datetime) -> None:
    """Note that the person is in the park's group (they spoke there, or the platform said so)."""
    if session.exec(select(ParkMember.id).where(ParkMember.person_id == person_id,
                                                ParkMember.park_id == park_id)).first() is not None:
        return
    try:
        with session.begin_nested():  # someone else's message may have noted it a moment ago
            session.add(ParkMember(person_id=person_id, park_id=park_id, since=now))
    except IntegrityError:
        pass
