"""``/uitnodigingen`` (``/invites``): the park's outstanding invites, each with a button to cancel it.

``/uitnodigingen intrekken 2`` (``cancel 2``) cancels by number too. A cancelled invite cannot
be redeemed; the cancellation is in the audit log, as is who redeemed which invite.
"""

from sqlmodel import col, select

from handlers import audit, park_choice, park_numbers
from handlers.admin_officials import entry_keyboard
from handlers.buttons import InviteCancel
from handlers.context import Context
from handlers.i18n import Markup
from handlers.messages import Button
from handlers.rendering import local_time, role_label
from storage.models import Invite, Park, Person

CANCEL_WORDS = {"intrekken", "annuleer", "annuleren", "cancel", "revoke"}


def list_invites(ctx: Context, args: str) -> None:
    park = park_choice.choose(ctx, park_choice.admin_parks(ctx), "invites", args)
    if park is None:
        return None
    words = args.split()
    if words and words[0].lower() in CANCEL_WORDS:
        number = park_numbers.parse_number(words[1]) if len(words) == 2 else None
        invite_id = park_numbers.find(park_numbers.invites(ctx.session, park.id), number)
        return cancel(ctx, invite_id or 0, typed=words[1] if len(words) > 1 else "?")
    outstanding = _outstanding(ctx, park)
    if not outstanding:
        return ctx.reply(ctx.t("invites.none", park=park.name))
    numbers = park_numbers.invites(ctx.session, park.id)
    lines = [ctx.t("invites.header", park=park.name)]
    keyboard = []
    for invite in outstanding:
        issuer = ctx.session.get(Person, invite.created_by_person_id) if invite.created_by_person_id else None
        label = role_label(ctx.services.texts, ctx.language, invite.role)
        lines.append(ctx.t("invites.line", number=numbers[invite.id], role=label,
                           until=local_time(park, invite.expires_at, ctx.language),
                           issuer=issuer.display_name if issuer else ctx.t("invites.command_line")))
        keyboard.append(Button(ctx.t("invites.cancel_button", number=numbers[invite.id], role=label),
                               data=InviteCancel(invite.id)))
    keyboard_rows = entry_keyboard(ctx, keyboard, lines)
    ctx.reply(Markup("\n".join(lines)), keyboard_rows)
    return None


def cancel(ctx: Context, invite_id: int, typed: str | None = None) -> None:
    """Cancel an outstanding invite of a park this person administers."""
    invite = ctx.session.get(Invite, invite_id) if invite_id else None
    admin_of = {park.id for park in park_choice.admin_parks(ctx)}
    if invite is None or invite.park_id not in admin_of:
        if typed is not None:
            return ctx.reply(ctx.t("invites.unknown", value=typed))
        ctx.toast = ctx.t("input.stale_button")
        return None
    park = ctx.session.get(Park, invite.park_id)
    number = park_numbers.invites(ctx.session, park.id)[invite.id]
    if invite.used_at is not None or invite.cancelled_at is not None or invite.expires_at <= ctx.now:
        return ctx.reply(ctx.t("invites.not_outstanding", number=number))
    invite.cancelled_at = ctx.now
    ctx.session.add(invite)
    audit.record(ctx, park, "invite.cancel", invite.role, before={"role": invite.role, "invite_id": invite.id,
                                                                   "number": number})
    ctx.reply(ctx.t("invites.cancelled", number=number,
                    role=role_label(ctx.services.texts, ctx.language, invite.role)))
    return None


def _outstanding(ctx: Context, park: Park) -> list[Invite]:
    return list(ctx.session.exec(select(Invite).where(
        Invite.park_id == park.id, col(Invite.used_at).is_(None), col(Invite.cancelled_at).is_(None),
        Invite.expires_at > ctx.now).order_by(col(Invite.id))))
