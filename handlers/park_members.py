"""A park's members as park-level audiences (issue 12): private updates, the scan, and the opt-out.

A bot cannot list a group's members, so a park's members are the people it has seen there or
the platform confirmed (``ParkMember``). When a membership starts, counts a miss and ends is
``handlers.membership``'s one policy. Members can opt out of private updates (and back in).
"""

from sqlmodel import Session, col, select

from handlers.context import Context
from storage.models import Park, ParkMember, Person


def membership(session: Session, park_id: int, person_id: int) -> ParkMember | None:
    return session.exec(select(ParkMember).where(
        ParkMember.park_id == park_id, ParkMember.person_id == person_id)).first()


def receivers(session: Session, park_id: int, except_person_id: int | None = None) -> list[Person]:
    """Members of the park who did not opt out of private updates (a membership with one miss still counts)."""
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
