"""The park's group chat: linking it, and intake that never takes details there."""

from handlers import report_flow
from handlers.context import Context
from handlers.messages import Button
from handlers.rendering import mention
from storage.models import GroupChat, Park
from storage.queries import ADMIN, active_roles, group_by_chat, park_by_slug

REPORT_PAYLOAD_PREFIX = "m_"


def report_link(ctx: Context, park: Park) -> str | None:
    port = ctx.services.platforms.get(ctx.chat.platform)
    return port.private_chat_link(REPORT_PAYLOAD_PREFIX + park.slug) if port else None


def report_button(ctx: Context, park: Park) -> list[list[Button]] | None:
    link = report_link(ctx, park)
    return [[Button(ctx.t("group.report_button"), url=link)]] if link else None


def link_group(ctx: Context) -> None:
    """``/koppel [park]`` by a verified admin links this group to their park."""
    admin_parks = [role.park_id for role in active_roles(ctx.session, ctx.person.id) if role.role == ADMIN]
    existing = group_by_chat(ctx.session, ctx.chat.platform, ctx.chat.chat_id)
    if not admin_parks:
        return ctx.reply(ctx.t("group.link_not_admin"))
    if existing is not None:
        park = ctx.session.get(Park, existing.park_id)
        key = "group.already_linked" if existing.park_id in admin_parks else "group.linked_elsewhere"
        return ctx.reply(ctx.t(key, park=park.name))
    wanted = ctx.incoming.args.strip().lower()
    if wanted:
        park = park_by_slug(ctx.session, wanted)
        if park is None or park.id not in admin_parks:
            return ctx.reply(ctx.t("group.link_unknown_park", slug=wanted))
    elif len(admin_parks) == 1:
        park = ctx.session.get(Park, admin_parks[0])
    else:
        slugs = ", ".join(sorted(ctx.session.get(Park, park_id).slug for park_id in admin_parks))
        return ctx.reply(ctx.t("group.link_which_park", slugs=slugs))
    ctx.session.add(GroupChat(park_id=park.id, platform=ctx.chat.platform, chat_id=ctx.chat.chat_id,
                              title=ctx.chat.title, linked_by_person_id=ctx.person.id, linked_at=ctx.now))
    ctx.reply(ctx.t("group.welcome", park=park.name), report_button(ctx, park))
    return None


def report_from_group(ctx: Context) -> None:
    """``/melden`` in the group: a button to the private chat, and nothing else."""
    group = group_by_chat(ctx.session, ctx.chat.platform, ctx.chat.chat_id)
    if group is None:
        return ctx.reply(ctx.t("group.not_linked"))
    park = ctx.session.get(Park, group.park_id)
    buttons = report_button(ctx, park)
    if buttons is not None:
        ctx.reply(ctx.t("group.report_here"), buttons)
        return None
    # No link into a private chat on this platform (Matrix): open the private chat ourselves.
    # Writing in the group proves membership, so the report starts right away.
    private = ctx.in_private()
    report_flow.start(private, park)
    ctx.toast = private.toast
    ctx.reply(ctx.t("group.report_sent_privately", name=mention(ctx.services, ctx.person)))
    return None


def migrate(ctx: Context, new_chat_id: str) -> None:
    """A group became a supergroup and got a new id; keep it linked."""
    group = group_by_chat(ctx.session, ctx.chat.platform, ctx.chat.chat_id)
    if group is not None and group_by_chat(ctx.session, ctx.chat.platform, new_chat_id) is None:
        group.chat_id = new_chat_id
        ctx.session.add(group)
