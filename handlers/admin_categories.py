"""Categories, their routing and their "what to look for" cards, managed from the chat.

``/categorie <action> …`` with actions (Dutch / English): toevoegen/add NAME,
hernoemen/rename #ID NL-NAME | EN-NAME, uit/disable #ID, aan/enable #ID, verplaats/move #ID
POSITION, rollen/roles #ID ROLE,ROLE, signalen/signals #ID NL-TEXT | EN-TEXT.
"""

import re

from sqlmodel import col, select

from handlers import audit, park_choice
from handlers.context import Context
from handlers.i18n import Markup, escape
from handlers.numbers import as_id
from handlers.rendering import category_name, role_label
from storage.models import Category, Park
from storage.queries import enabled_categories

ACTIONS = {"toevoegen": "add", "add": "add", "hernoemen": "rename", "rename": "rename", "uit": "disable",
           "disable": "disable", "aan": "enable", "enable": "enable", "verplaats": "move", "move": "move",
           "rollen": "roles", "roles": "roles", "signalen": "signals", "signals": "signals"}
MAX_NAME = 60
MAX_CARD = 1500


def list_categories(ctx: Context, args: str) -> None:
    park = park_choice.choose(ctx, park_choice.admin_parks(ctx), "categories", args)
    if park is None:
        return _refuse_unless_asked(ctx)
    lines = [ctx.t("category.header", park=park.name)]
    for category in _all(ctx, park):
        roles = ", ".join(role_label(ctx.services.texts, ctx.language, role) for role in category.roles)
        key = "category.line" if category.enabled else "category.line_disabled"
        lines.append(ctx.t(key, id=category.id, name=category_name(category, ctx.language), roles=roles))
    lines.append(ctx.t("category.usage"))
    ctx.reply(Markup("\n".join(lines)))
    return None


def change(ctx: Context, args: str) -> None:
    words = args.split(maxsplit=1)
    action = ACTIONS.get(words[0].lower()) if words else None
    rest = words[1].strip() if len(words) > 1 else ""
    if action is None:
        return ctx.reply(ctx.t("category.usage"))
    if action == "add":
        return _add(ctx, rest)
    target, _, value = rest.partition(" ")
    category = _category_arg(ctx, target)
    if category is None:
        return None
    park = ctx.session.get(Park, category.park_id)
    value = value.strip()
    before = _snapshot(category)
    if action == "rename":
        names = _pair(value)
        if names is None or not all(0 < len(name) <= MAX_NAME for name in names):
            return ctx.reply(ctx.t("category.bad_name", max=MAX_NAME))
        category.name_nl, category.name_en = names
    elif action in ("disable", "enable"):
        if action == "disable" and category.enabled and len(enabled_categories(ctx.session, park.id)) <= 1:
            return ctx.reply(ctx.t("category.last_enabled"))
        category.enabled = action == "enable"
    elif action == "move":
        if not (value.isascii() and value.isdigit()) or int(value) < 1:
            return ctx.reply(ctx.t("category.usage"))
        _move(ctx, park, category, int(value))
    elif action == "roles":
        roles = [role.strip().lower() for role in re.split(r"[,\s]+", value) if role.strip()]
        allowed = ctx.services.settings.official_roles
        if not roles or any(role not in allowed for role in roles):
            return ctx.reply(ctx.t("category.bad_roles", roles=", ".join(allowed)))
        category.roles = list(dict.fromkeys(roles))
    elif action == "signals":
        cards = _pair(value)
        if cards is None or not all(0 < len(card) <= MAX_CARD for card in cards):
            return ctx.reply(ctx.t("category.bad_card", max=MAX_CARD))
        category.signals_nl, category.signals_en = cards
    ctx.session.add(category)
    audit.record(ctx, park, f"category.{action}", f"#{category.id}", before=before, after=_snapshot(category))
    ctx.reply(ctx.t("category.changed", id=category.id, name=category_name(category, ctx.language)))
    return None


def _add(ctx: Context, name: str) -> None:
    park = park_choice.choose(ctx, park_choice.admin_parks(ctx), "category", f"add {name}")
    if park is None:
        return _refuse_unless_asked(ctx)
    names = _pair(name)
    if names is None or not all(0 < len(part) <= MAX_NAME for part in names):
        return ctx.reply(ctx.t("category.bad_name", max=MAX_NAME))
    key = _unique_key(ctx, park, names[0])
    existing = _all(ctx, park)
    category = Category(park_id=park.id, key=key, name_nl=names[0], name_en=names[1],
                        roles=[ctx.services.settings.official_roles[0]],
                        position=max((c.position for c in existing), default=-1) + 1)
    ctx.session.add(category)
    ctx.session.flush()
    audit.record(ctx, park, "category.add", f"#{category.id}", after=_snapshot(category))
    ctx.reply(ctx.t("category.added", id=category.id, name=category_name(category, ctx.language),
                    role=role_label(ctx.services.texts, ctx.language, category.roles[0])))
    return None


def _move(ctx: Context, park: Park, category: Category, position: int) -> None:
    ordered = [c for c in _all(ctx, park) if c.id != category.id]
    ordered.insert(min(position, len(ordered) + 1) - 1, category)
    for index, item in enumerate(ordered):
        item.position = index
        ctx.session.add(item)


def signal_cards(ctx: Context, park: Park) -> Markup:
    """All enabled categories' cards, for ``/signalen`` and the report flow."""
    texts = ctx.services.texts
    parts = [ctx.t("card.general_intro") if texts.has("card.general_intro") else ""]
    for category in enabled_categories(ctx.session, park.id):
        parts.append(card_of(ctx, category))
    return Markup("\n\n".join(part for part in parts if part))


def card_of(ctx: Context, category: Category) -> Markup:
    own = category.signals_en if ctx.language == "en" else category.signals_nl
    if own:
        return Markup(f"<b>{escape(category_name(category, ctx.language))}</b>\n{escape(own)}")
    key = f"card.{category.key}"
    if ctx.services.texts.has(key):
        return ctx.t(key)
    return ctx.t("card.none", name=category_name(category, ctx.language))


def _all(ctx: Context, park: Park) -> list[Category]:
    return list(ctx.session.exec(select(Category).where(Category.park_id == park.id)
                                 .order_by(col(Category.position), col(Category.id))))


def _category_arg(ctx: Context, text: str) -> Category | None:
    ident = as_id(text)
    category = ctx.session.get(Category, ident) if ident is not None else None
    admin_of = {park.id for park in park_choice.admin_parks(ctx)}
    if not admin_of:
        ctx.reply(ctx.t("admin.not_admin"))
        return None
    if category is None or category.park_id not in admin_of:
        ctx.reply(ctx.t("category.unknown", value=text.strip() or "?"))
        return None
    return category


def _pair(value: str) -> tuple[str, str] | None:
    """``Dutch | English``; one value serves both languages."""
    if not value.strip():
        return None
    dutch, _, english = value.partition("|")
    dutch, english = dutch.strip(), english.strip() or dutch.strip()
    return (dutch, english) if dutch else None


def _unique_key(ctx: Context, park: Park, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:30] or "categorie"
    taken = {c.key for c in _all(ctx, park)}
    key, counter = base, 2
    while key in taken:
        key, counter = f"{base[:26]}-{counter}", counter + 1
    return key


def _snapshot(category: Category) -> dict:
    return {"name_nl": category.name_nl, "name_en": category.name_en, "roles": ",".join(category.roles),
            "enabled": category.enabled, "position": category.position,
            "signals": "custom" if category.signals_nl else "default"}


def _refuse_unless_asked(ctx: Context) -> None:
    if not park_choice.admin_parks(ctx):
        ctx.reply(ctx.t("admin.not_admin"))

