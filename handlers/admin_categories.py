"""Categories, their routing and their "what to look for" cards, managed from the chat.

``/categorie <action> …`` with actions (Dutch / English): toevoegen/add NAME,
hernoemen/rename NR NL-NAME | EN-NAME, uit/disable NR, aan/enable NR, verplaats/move NR
POSITION, rollen/roles NR ROLE,ROLE, signalen/signals NR NL-TEXT | EN-TEXT. NR is the
category's number in the park (``3`` or ``#3``); roles may be named in either language
(``politie, gemeente``). ``/categorieen`` offers buttons for on/off, order and routing.
"""

import re

from sqlmodel import col, select

from handlers import audit, park_choice, park_numbers
from handlers.admin_officials import entry_keyboard
from handlers.buttons import CategoryAction, CategoryRole
from handlers.context import Context
from handlers.i18n import Markup, escape
from handlers.messages import Button
from handlers.rendering import category_name, role_label
from handlers.role_names import parse_roles
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
        return None
    numbers = park_numbers.categories(ctx.session, park.id)
    lines, keyboard = [ctx.t("category.header", park=park.name)], []
    for category in _all(ctx, park):
        roles = ", ".join(role_label(ctx.services.texts, ctx.language, role) for role in category.roles)
        key = "category.line" if category.enabled else "category.line_disabled"
        number, name = numbers[category.id], category_name(category, ctx.language)
        lines.append(ctx.t(key, id=number, name=name, roles=roles))
        keyboard.append(Button(f"#{number} {name}", data=CategoryAction(category.id, "manage")))
    lines.append(ctx.t("category.usage"))
    keyboard_rows = entry_keyboard(ctx, keyboard, lines)
    ctx.reply(Markup("\n".join(lines)), keyboard_rows)
    return None


def change(ctx: Context, args: str) -> None:
    words = args.split(maxsplit=1)
    action = ACTIONS.get(words[0].lower()) if words else None
    rest = words[1].strip() if len(words) > 1 else ""
    if action is None:
        return ctx.reply(ctx.t("category.usage"))
    if action == "add":
        return _add(ctx, rest)
    park = park_choice.choose(ctx, park_choice.admin_parks(ctx), "category", args)
    if park is None:
        return None
    target, _, value = rest.partition(" ")
    category = _category_arg(ctx, park, target)
    if category is None:
        return None
    value = value.strip()
    before = _snapshot(category)
    if action == "rename":
        names = _pair(value)
        if names is None or not all(0 < len(name) <= MAX_NAME for name in names):
            return ctx.reply(ctx.t("category.bad_name", max=MAX_NAME))
        category.name_nl, category.name_en = names
    elif action in ("disable", "enable"):
        if not _switch(ctx, park, category, action == "enable"):
            return None
    elif action == "move":
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 1000:
            return ctx.reply(ctx.t("category.usage"))
        _move(ctx, park, category, int(value))
    elif action == "roles":
        allowed = ctx.services.settings.official_roles
        roles = parse_roles(ctx.services.texts, value, allowed)
        if not roles:
            return ctx.reply(ctx.t("category.bad_roles", roles=", ".join(
                role_label(ctx.services.texts, ctx.language, role) for role in allowed)))
        category.roles = roles
    elif action == "signals":
        cards = _pair(value)
        if cards is None or not all(0 < len(card) <= MAX_CARD for card in cards):
            return ctx.reply(ctx.t("category.bad_card", max=MAX_CARD))
        category.signals_nl, category.signals_en = cards
    _changed(ctx, park, category, action, before)
    return None


def _changed(ctx: Context, park: Park, category: Category, action: str, before: dict) -> None:
    ctx.session.add(category)
    audit.record(ctx, park, f"category.{action}", category.name_nl, before=before, after=_snapshot(category))
    ctx.reply(ctx.t("category.changed", id=park_numbers.categories(ctx.session, park.id)[category.id],
                    name=category_name(category, ctx.language)))


def _switch(ctx: Context, park: Park, category: Category, enabled: bool) -> bool:
    if not enabled and category.enabled and len(enabled_categories(ctx.session, park.id)) <= 1:
        ctx.reply(ctx.t("category.last_enabled"))
        return False
    category.enabled = enabled
    return True


# ---- buttons ----------------------------------------------------------------------------------------

def on_category_button(ctx: Context, category_id: int, action: str) -> None:
    category = _category_of_my_park(ctx, category_id)
    if category is None:
        return None
    park = ctx.session.get(Park, category.park_id)
    before = _snapshot(category)
    if action == "manage":
        return _category_menu(ctx, park, category)
    if action in ("on", "off"):
        if category.enabled == (action == "on"):
            ctx.toast = ctx.t("input.stale_button")
            return None
        if not _switch(ctx, park, category, action == "on"):
            return None
        return _changed(ctx, park, category, "enable" if action == "on" else "disable", before)
    if action in ("up", "down"):
        ordered = _all(ctx, park)
        index = ordered.index(category)
        _move(ctx, park, category, max(1, index + (0 if action == "up" else 2)))
        return _changed(ctx, park, category, "move", before)
    return _ask_roles(ctx, park, category)


def on_role_toggle(ctx: Context, category_id: int, role: str) -> None:
    category = _category_of_my_park(ctx, category_id)
    if category is None or role not in ctx.services.settings.official_roles:
        ctx.toast = ctx.t("input.stale_button")
        return None
    park = ctx.session.get(Park, category.park_id)
    before = _snapshot(category)
    wanted = set(category.roles) ^ {role}
    roles = [r for r in ctx.services.settings.official_roles if r in wanted]  # in the configured order
    if not roles:
        return ctx.reply(ctx.t("category.needs_a_role"))
    category.roles = roles
    _changed(ctx, park, category, "roles", before)
    return _ask_roles(ctx, park, category)


def _category_menu(ctx: Context, park: Park, category: Category) -> None:
    """The actions for one category: on or off, up, down, routing."""
    number, name = park_numbers.categories(ctx.session, park.id)[category.id], category_name(category, ctx.language)
    ctx.reply(ctx.t("category.manage", number=number, name=name), [
        [Button(ctx.t("category.button_off" if category.enabled else "category.button_on", number=number, name=name),
                data=CategoryAction(category.id, "off" if category.enabled else "on"))],
        [Button(ctx.t("category.button_up", number=number), data=CategoryAction(category.id, "up")),
         Button(ctx.t("category.button_down", number=number), data=CategoryAction(category.id, "down"))],
        [Button(ctx.t("category.button_roles", number=number), data=CategoryAction(category.id, "roles"))]])


def _ask_roles(ctx: Context, park: Park, category: Category) -> None:
    """Every official role as a toggle: ✅ routed, ▫️ not."""
    buttons = [[Button(("✅ " if role in category.roles else "▫️ ") + role_label(ctx.services.texts, ctx.language, role),
                       data=CategoryRole(category.id, role))] for role in ctx.services.settings.official_roles]
    ctx.reply(ctx.t("category.ask_roles", number=park_numbers.categories(ctx.session, park.id)[category.id],
                    name=category_name(category, ctx.language)), buttons)


def _category_of_my_park(ctx: Context, category_id: int) -> Category | None:
    category = ctx.session.get(Category, category_id)
    if category is None or category.park_id not in {park.id for park in park_choice.admin_parks(ctx)}:
        ctx.toast = ctx.t("input.stale_button")
        return None
    return category


def _add(ctx: Context, name: str) -> None:
    park = park_choice.choose(ctx, park_choice.admin_parks(ctx), "category", f"add {name}")
    if park is None:
        return None
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
    audit.record(ctx, park, "category.add", category.name_nl, after=_snapshot(category))
    ctx.reply(ctx.t("category.added", id=park_numbers.categories(ctx.session, park.id)[category.id],
                    name=category_name(category, ctx.language),
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


def _category_arg(ctx: Context, park: Park, text: str) -> Category | None:
    """The category with number ``text`` in the park; otherwise say so."""
    category_id = park_numbers.find(park_numbers.categories(ctx.session, park.id), park_numbers.parse_number(text))
    if category_id is None:
        ctx.reply(ctx.t("category.unknown", value=text.strip() or "?"))
        return None
    return ctx.session.get(Category, category_id)


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
