"""Who belongs to a park, for private park updates: people the platform confirmed in a linked group.

A bot cannot list a group's members, so a park's members are the people it has seen there:
whoever the platform confirmed as a member (when they report or look up signals) and whoever
used a command or pressed a button in a linked group. Each can opt out of private updates (and back in).
Once a day each membership is checked with the platform again; somebody found in none of the park's
groups at two checks in a row (so one failed platform call removes nobody) is no member any more.
"""

from datetime import timedelta

from sqlmodel import Session, col, select

from handlers.context import Context
from handlers.services import Services
from storage.models import Park, ParkMember, Person
from storage.queries import group_by_chat, groups_of_park

RECHECK_EVERY = timedelta(days=1)
RECHECK_BATCH = 100
MISSES_TO_LEAVE = 2


def remember(ctx: Context) -> None:
    """Record the parks this message proved the person a member of."""
    park_ids = set(ctx.member_of_parks)
    if not ctx.chat.is_private and (ctx.incoming.command or ctx.incoming.press):
        group = group_by_chat(ctx.session, ctx.chat.platform, ctx.chat.chat_id)
        if group is not None:
            park_ids.add(group.park_id)
    for park_id in sorted(park_ids):
        member = membership(ctx.session, park_id, ctx.person.id)
        if member is None:
            member = ParkMember(park_id=park_id, person_id=ctx.person.id, since=ctx.now)
        member.checked_at, member.missed_checks = ctx.now, 0
        ctx.session.add(member)
    if park_ids:
        ctx.session.flush()


def membership(session: Session, park_id: int, person_id: int) -> ParkMember | None:
    return session.exec(select(ParkMember).where(
        ParkMember.park_id == park_id, ParkMember.person_id == person_id)).first()


def receivers(session: Session, park_id: int, except_person_id: int | None = None) -> list[Person]:
    """Members of the park who have not opted out of private updates."""
    rows = session.exec(
        select(Person).join(ParkMember, col(ParkMember.person_id) == col(Person.id))
        .where(ParkMember.park_id == park_id, col(ParkMember.opted_out_at).is_(None))
        .order_by(col(ParkMember.id)))
    return [person for person in rows if person.id != except_person_id]


def set_opted_out(ctx: Context, park: Park, opted_out: bool) -> bool:
    """Switch private updates of one park off or on; False if the person is no member of it."""
    member = membership(ctx.session, park.id, ctx.person.id)
    if member is None:
        return False
    member.opted_out_at = ctx.now if opted_out else None
    ctx.session.add(member)
    return True


def parks_of(session: Session, person_id: int) -> list[tuple[Park, ParkMember]]:
    return list(session.exec(
        select(Park, ParkMember).join(ParkMember, col(ParkMember.park_id) == col(Park.id))
        .where(ParkMember.person_id == person_id).order_by(col(Park.id))))


def updates_setting(ctx: Context, args: str) -> None:
    """``/parkberichten [aan|uit]``: private park updates on or off, for every park of the person."""
    memberships = parks_of(ctx.session, ctx.person.id)
    if not memberships:
        return ctx.reply(ctx.t("members.none"))
    word = args.strip().lower()
    if word in ("aan", "on"):
        wanted = False
    elif word in ("uit", "off"):
        wanted = True
    elif word:
        return ctx.reply(ctx.t("members.usage"))
    else:
        lines = [ctx.t("members.state_off" if member.opted_out_at else "members.state_on", park=park.name)
                 for park, member in memberships]
        return ctx.reply(ctx.t("members.state", lines="\n".join(lines)))
    for park, member in memberships:
        member.opted_out_at = ctx.now if wanted else None
        ctx.session.add(member)
    names = ", ".join(park.name for park, _ in memberships)
    return ctx.reply(ctx.t("members.now_off" if wanted else "members.now_on", parks=names))


async def recheck(services: Services) -> int:
    """Ask the platform again about memberships not checked for a day; returns how many ended."""
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
            answers[member_id] = None  # nothing to ask: keep as is
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
            member.checked_at = now
            member.missed_checks = 0 if found in (True, None) else member.missed_checks + 1
            if member.missed_checks >= MISSES_TO_LEAVE:
                session.delete(member)
                ended += 1
            else:
                session.add(member)
    return ended
