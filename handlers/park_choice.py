"""Commands that need a park ask which one when the person has several."""

from sqlmodel import col, select

from handlers.buttons import ParkChoice
from handlers.context import Context
from handlers.messages import Button
from storage.models import Park, PendingCommand, Role
from storage.queries import ADMIN


def admin_parks(ctx: Context) -> list[Park]:
    return _parks(ctx, lambda role: role == ADMIN)


def official_parks(ctx: Context) -> list[Park]:
    return _parks(ctx, lambda role: role != ADMIN)


def _parks(ctx: Context, wanted) -> list[Park]:
    roles = ctx.session.exec(select(Role).where(Role.person_id == ctx.person.id, col(Role.revoked_at).is_(None)))
    ids = sorted({role.park_id for role in roles if wanted(role.role)})
    return [ctx.session.get(Park, park_id) for park_id in ids]


def choose(ctx: Context, parks: list[Park], command: str, args: str) -> Park | None:
    """The park the command is for: the chosen one, the only one, or None after asking."""
    if ctx.chosen_park_id is not None:
        chosen = next((park for park in parks if park.id == ctx.chosen_park_id), None)
        if chosen is None:  # a forged or outdated park button: no park of this person's
            ctx.reply(ctx.t("input.stale_button"))
        return chosen
    if len(parks) == 1:
        return parks[0]
    if not parks:
        return None
    pending = PendingCommand(person_id=ctx.person.id, command=command, args=args, created_at=ctx.now)
    ctx.session.add(pending)
    ctx.session.flush()
    ctx.reply(ctx.t("park.which"), [[Button(park.name, data=ParkChoice(pending.id, park.id))] for park in parks])
    return None


def take_pending(ctx: Context, pending_id: int, park_id: int) -> PendingCommand | None:
    """The command a park button belongs to, if it is this person's; it is used up."""
    pending = ctx.session.get(PendingCommand, pending_id)
    if pending is None or pending.person_id != ctx.person.id:
        return None
    ctx.session.delete(pending)
    ctx.chosen_park_id = park_id
    return pending
