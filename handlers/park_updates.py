"""Park updates from officials and admins (``/bericht``, ``/update``).

    PARKS (several parks) ─▶ TEXT ─▶ PHOTO ─▶ AUDIENCE ─▶ SIGN ─▶ PREVIEW ─▶ sent
    /stop ends it anywhere.

An update goes to the park's linked group(s) and/or privately to every member who has not
opted out, through the outbox. It is signed with the author's role; their name only when
they choose so. Members mark it useful with one tap (``u:<update id>:ok``); the author
sees the counts with ``/mijnberichten``.
"""

import html

from sqlmodel import col, func, select

from handlers import audit, park_drafts, park_members
from handlers.context import Context
from handlers.buttons import UpdateReaction
from handlers.i18n import Markup, escape
from handlers.messages import Button
from handlers.numbers import as_id
from handlers.outbox import enqueue
from handlers.rendering import local_time, role_label
from storage.models import GroupChat, Park, ParkLevelDraft, ParkUpdate, Person, Role, UpdateUseful
from storage.queries import ADMIN, active_roles, group_by_chat, groups_of_park, role_names

KIND = "update"
TEXT = park_drafts.TEXT
PARKS, PHOTO, AUDIENCE, SIGN, PREVIEW = "parks", "photo", "audience", "sign", "preview"
LIST_LIMIT = 10


# ---- who may write, and how it is signed ------------------------------------------------------

def author_parks(ctx: Context) -> list[Park]:
    """Parks where the person is a verified official or admin."""
    ids = sorted({role.park_id for role in active_roles(ctx.session, ctx.person.id)})
    return [ctx.session.get(Park, park_id) for park_id in ids]


def author_role(ctx: Context, park_id: int) -> str | None:
    """The role an update is signed with: the person's official role in the park, else admin."""
    names = role_names(ctx.session, ctx.person.id, park_id)
    officials = [name for name in names if name != ADMIN]
    return officials[0] if officials else (ADMIN if ADMIN in names else None)


def signature(ctx: Context, language: str, role: str, author: Person, show_name: bool) -> Markup:
    texts = ctx.services.texts
    label = role_label(texts, language, role)
    label = label[:1].upper() + label[1:]
    if show_name:
        return texts(language, "update.signed_named", name=author.display_name, role=label)
    return texts(language, "update.signed", role=label)


def group_buttons_work(ctx: Context, platform: str) -> bool:
    """Whether people can press buttons under a group message (not on Matrix: rooms get commands)."""
    return getattr(ctx.services.platforms.get(platform), "group_buttons", True)


# ---- composing -------------------------------------------------------------------------------

def start(ctx: Context, args: str) -> None:
    parks = author_parks(ctx)
    if not parks:
        return ctx.reply(ctx.t("update.not_official"))
    text = args.strip()
    if len(text) > park_drafts.MAX_TEXT:
        return ctx.reply(ctx.t("input.too_long", max=park_drafts.MAX_TEXT, length=len(text)))
    data = {"parks": [parks[0].id] if len(parks) == 1 else [], "text": text or None, "photo": None,
            "groups": True, "members": False, "named": False}
    step = PARKS if len(parks) > 1 else (PHOTO if text else TEXT)
    draft = park_drafts.begin(ctx, KIND, step, data)
    _default_audience(ctx, draft)
    return ask(ctx, draft)


def _default_audience(ctx: Context, draft: ParkLevelDraft) -> None:
    """Into the group(s) when there is one; privately to the members otherwise."""
    data = dict(draft.data)
    has_group = any(groups_of_park(ctx.session, park_id) for park_id in data["parks"])
    data["groups"], data["members"] = has_group, not has_group
    draft.data = data
    ctx.session.add(draft)


def ask(ctx: Context, draft: ParkLevelDraft) -> None:
    data, b = draft.data, lambda key, value, **v: park_drafts.button(ctx, draft, key, value, **v)  # noqa: E731
    step = draft.step
    if step == PARKS:
        rows = []
        for park in author_parks(ctx):
            mark = "☑" if park.id in data["parks"] else "☐"
            rows.append([Button(f"{mark} {park.name}", data=park_drafts.data_for(draft, str(park.id)))])
        rows.append([b("update.next", "next")])
        ctx.reply(ctx.t("update.ask_parks"), rows)
    elif step == TEXT:
        ctx.reply(ctx.t("update.ask_text", max=park_drafts.MAX_TEXT))
    elif step == PHOTO:
        ctx.reply(ctx.t("update.ask_photo"), [[b("update.no_photo", "none")]])
    elif step == AUDIENCE:
        groups = sum(len(groups_of_park(ctx.session, park_id)) for park_id in data["parks"])
        members = _member_count(ctx, data["parks"])
        rows = [[Button(("☑ " if data["groups"] else "☐ ") + ctx.t("update.to_groups", count=groups),
                        data=park_drafts.data_for(draft, "groups"))],
                [Button(("☑ " if data["members"] else "☐ ") + ctx.t("update.to_members", count=members),
                        data=park_drafts.data_for(draft, "members"))],
                [b("update.next", "next")]]
        ctx.reply(ctx.t("update.ask_audience"), rows)
    elif step == SIGN:
        park_id = data["parks"][0]
        role = author_role(ctx, park_id) or ADMIN
        ctx.reply(ctx.t("update.ask_sign"),  # button labels are plain text, not HTML
                  [[Button(html.unescape(signature(ctx, ctx.language, role, ctx.person, False)),
                           data=park_drafts.data_for(draft, "role"))],
                   [Button(html.unescape(signature(ctx, ctx.language, role, ctx.person, True)),
                           data=park_drafts.data_for(draft, "name"))]])
    elif step == PREVIEW:
        park = ctx.session.get(Park, data["parks"][0])
        role = author_role(ctx, park.id) or ADMIN
        body = _body(ctx, ctx.language, park, data["text"], signature(ctx, ctx.language, role, ctx.person,
                                                                           data["named"]))
        names = ", ".join(ctx.session.get(Park, park_id).name for park_id in data["parks"])
        audience = _audience_line(ctx, data)
        ctx.reply(Markup(ctx.t("update.preview", parks=names, audience=audience,
                               photo=ctx.t("yes") if data["photo"] else ctx.t("no")) + "\n\n" + body),
                  [[b("update.send", "send")], [b("update.cancel", "cancel")]])


def _audience_line(ctx: Context, data: dict) -> str:
    parts = []
    if data["groups"]:
        parts.append(ctx.t("update.to_groups", count=sum(len(groups_of_park(ctx.session, p)) for p in data["parks"])))
    if data["members"]:
        parts.append(ctx.t("update.to_members", count=_member_count(ctx, data["parks"])))
    return " + ".join(parts)


def _member_count(ctx: Context, park_ids: list[int]) -> int:
    people = {person.id for park_id in park_ids
              for person in park_members.receivers(ctx.session, park_id, except_person_id=ctx.person.id)}
    return len(people)


def on_press(ctx: Context, draft: ParkLevelDraft, value: str) -> None:
    data = dict(draft.data)
    step = draft.step
    if step == PARKS and value.isdigit():
        park_id = int(value)
        if park_id not in {park.id for park in author_parks(ctx)}:
            return _stale(ctx)
        chosen = set(data["parks"]) ^ {park_id}
        data["parks"] = sorted(chosen)
        park_drafts.move(ctx, draft, PARKS, data)
        return ask(ctx, draft)
    if step == PARKS and value == "next":
        if not data["parks"]:
            ctx.reply(ctx.t("update.choose_a_park"))
            return ask(ctx, draft)
        park_drafts.move(ctx, draft, PHOTO if data["text"] else TEXT, data)
        _default_audience(ctx, draft)
        return ask(ctx, draft)
    if step == PHOTO and value == "none":
        data["photo"] = None
        park_drafts.move(ctx, draft, AUDIENCE, data)
        return ask(ctx, draft)
    if step == AUDIENCE and value in ("groups", "members"):
        data[value] = not data[value]
        park_drafts.move(ctx, draft, AUDIENCE, data)
        return ask(ctx, draft)
    if step == AUDIENCE and value == "next":
        if not (data["groups"] or data["members"]):
            ctx.reply(ctx.t("update.choose_audience"))
            return ask(ctx, draft)
        park_drafts.move(ctx, draft, SIGN, data)
        return ask(ctx, draft)
    if step == SIGN and value in ("role", "name"):
        data["named"] = value == "name"
        park_drafts.move(ctx, draft, PREVIEW, data)
        return ask(ctx, draft)
    if step == PREVIEW and value == "send":
        return send(ctx, draft)
    if step == PREVIEW and value == "cancel":
        park_drafts.end(ctx, draft)
        return ctx.reply(ctx.t("update.cancelled"))
    return _stale(ctx)


def on_message(ctx: Context, draft: ParkLevelDraft) -> None:
    data = dict(draft.data)
    if draft.step == PHOTO and ctx.incoming.photo is not None:
        data["photo"] = ctx.incoming.photo
        park_drafts.move(ctx, draft, AUDIENCE, data)
        return ask(ctx, draft)
    park_drafts.take_text(ctx, draft, ask, PHOTO)
    return None


def _stale(ctx: Context) -> None:
    ctx.toast = ctx.t("input.stale_button")


# ---- sending ---------------------------------------------------------------------------------

def _body(ctx: Context, language: str, park: Park, text: str, signed: Markup) -> Markup:
    return ctx.services.texts(language, "update.body", park=park.name, text=text, signature=signed)


def send(ctx: Context, draft: ParkLevelDraft) -> None:
    """Write the update per park and every message it causes, in this transaction."""
    data = dict(draft.data)
    park_drafts.end(ctx, draft)
    reached_people: set[int] = set()
    total_groups = 0
    for park_id in data["parks"]:
        park = ctx.session.get(Park, park_id)
        role = author_role(ctx, park_id)
        if role is None:  # the role ended while writing
            continue
        update = ParkUpdate(park_id=park_id, author_person_id=ctx.person.id, author_role=role,
                            show_name=data["named"], text=data["text"], photo=data["photo"], created_at=ctx.now)
        ctx.session.add(update)
        ctx.session.flush()
        if data["groups"]:
            for group in groups_of_park(ctx.session, park_id):
                _post_in_group(ctx, park, update, group)
                update.to_groups += 1
        if data["members"]:
            for member in park_members.receivers(ctx.session, park_id, except_person_id=ctx.person.id):
                if member.id not in reached_people:
                    reached_people.add(member.id)
                    _send_privately(ctx, park, update, member)
                    update.to_members += 1
        ctx.session.add(update)
        total_groups += update.to_groups
        audit.record(ctx, park, "update.sent", subject=f"#{update.id}",
                     after={"groups": update.to_groups, "members": update.to_members})
    ctx.reply(ctx.t("update.sent", groups=total_groups, members=len(reached_people)))


def _post_in_group(ctx: Context, park: Park, update: ParkUpdate, group: GroupChat) -> None:
    texts = ctx.services.texts.on(group.platform)
    language = texts.language_for(park.language)
    author = ctx.session.get(Person, update.author_person_id)
    body = _body(ctx, language, park, update.text, signature(ctx, language, update.author_role, author,
                                                            update.show_name))
    buttons = None
    if group_buttons_work(ctx, group.platform):
        buttons = [[Button(texts(language, "update.useful_button"), data=UpdateReaction(update.id, "ok"))]]
    else:
        body = Markup(body + "\n\n" + texts(language, "update.useful_command", id=update.id))
    if update.photo:
        enqueue(ctx.session, now=ctx.now, platform=group.platform, chat_id=group.chat_id,
                text=texts(language, "update.photo_caption", park=park.name), photo=update.photo, purpose="update")
    enqueue(ctx.session, now=ctx.now, platform=group.platform, chat_id=group.chat_id, text=body, buttons=buttons,
            purpose="update")


def _send_privately(ctx: Context, park: Park, update: ParkUpdate, member: Person) -> None:
    texts = ctx.services.texts
    language = texts.language_for(member.language)
    author = ctx.session.get(Person, update.author_person_id)
    body = _body(ctx, language, park, update.text, signature(ctx, language, update.author_role, author,
                                                            update.show_name))
    if update.photo:
        ctx.send_to(member, texts(language, "update.photo_caption", park=park.name), photo=update.photo,
                    purpose="update")
    ctx.send_to(member, body, [[Button(texts(language, "update.useful_button"), data=UpdateReaction(update.id, "ok"))],
                               [Button(texts(language, "update.opt_out_button"),
                                       data=UpdateReaction(update.id, "off"))]], purpose="update")


# ---- reactions --------------------------------------------------------------------------------

def on_button(ctx: Context, update_id: int, action: str) -> None:
    update = ctx.session.get(ParkUpdate, update_id)
    if update is None or not _may_react(ctx, update):
        ctx.toast = ctx.t("input.stale_button")
        return None
    if action == "off":
        park = ctx.session.get(Park, update.park_id)
        park_members.set_opted_out(ctx, park, True)
        return ctx.reply(ctx.t("members.now_off", parks=park.name))
    return mark_useful(ctx, update)


def mark_useful(ctx: Context, update: ParkUpdate) -> None:
    already = ctx.session.exec(select(UpdateUseful).where(
        UpdateUseful.update_id == update.id, UpdateUseful.person_id == ctx.person.id)).first()
    if already is not None or update.author_person_id == ctx.person.id:
        return _answer(ctx, ctx.t("update.useful_already"))
    ctx.session.add(UpdateUseful(update_id=update.id, person_id=ctx.person.id, created_at=ctx.now))
    return _answer(ctx, ctx.t("update.useful_thanks"))


def _answer(ctx: Context, text: str) -> None:
    """A toast for a button; a short reply for a typed command."""
    if ctx.incoming.press:
        ctx.toast = text
    else:
        ctx.reply(text)


def _may_react(ctx: Context, update: ParkUpdate) -> bool:
    """From a group of the update's park, or as a member (or role holder) of that park."""
    if not ctx.chat.is_private:
        group = group_by_chat(ctx.session, ctx.chat.platform, ctx.chat.chat_id)
        return group is not None and group.park_id == update.park_id
    if park_members.membership(ctx.session, update.park_id, ctx.person.id) is not None:
        return True
    return ctx.session.exec(select(Role.id).where(
        Role.person_id == ctx.person.id, Role.park_id == update.park_id, col(Role.revoked_at).is_(None))).first() \
        is not None


def useful_command(ctx: Context, args: str) -> None:
    """``!nuttig 12`` (where buttons do not work, e.g. a Matrix room)."""
    ident = as_id(args)
    update = ctx.session.get(ParkUpdate, ident) if ident is not None else None
    if update is None or not _may_react(ctx, update):
        return ctx.reply(ctx.t("update.unknown", id=escape(args.strip())))
    return mark_useful(ctx, update)


def my_updates(ctx: Context) -> None:
    """``/mijnberichten``: the author's last updates with how many found each useful."""
    useful = func.count(col(UpdateUseful.id))
    rows = ctx.session.exec(
        select(ParkUpdate, Park, useful).join(Park, col(Park.id) == col(ParkUpdate.park_id))
        .join(UpdateUseful, col(UpdateUseful.update_id) == col(ParkUpdate.id), isouter=True)
        .where(ParkUpdate.author_person_id == ctx.person.id)
        .group_by(col(ParkUpdate.id), col(Park.id)).order_by(col(ParkUpdate.id).desc()).limit(LIST_LIMIT)).all()
    if not rows:
        return ctx.reply(ctx.t("update.none_yet"))
    lines = [ctx.t("update.list_header")]
    for update, park, count in rows:
        snippet = update.text if len(update.text) <= 60 else update.text[:59] + "…"
        lines.append(ctx.t("update.list_line", id=update.id, when=local_time(park, update.created_at, ctx.language),
                           park=park.name, useful=count, groups=update.to_groups, members=update.to_members,
                           text=snippet))
    return ctx.reply(Markup("\n".join(lines)))

