"""The guided report, a conversation with named steps stored in ``ReportDraft``.

    CATEGORY ─▶ WHERE ─▶ WHEN ─┬─▶ WHAT ─▶ PHOTOS ─▶ CONTACT ─▶ URGENT ─▶ SUMMARY ─▶ sent
                               └─▶ WHEN_DETAIL ─┘                          │  ▲
                                                                           ▼  │
                                                                          CHANGE
    /stop (or Cancel on the summary) ends it anywhere; an idle draft expires.

Every step is written to the database before the next question goes out, so a
restart continues where the reporter was. Buttons carry a ``DraftStep`` (draft, step, value):
a press from an older message or another draft is recognised and changes nothing.
"""

from sqlmodel import Session, select

from handlers.buttons import DraftStep, ShowSignals
from handlers.context import Context
from handlers.i18n import Markup
from handlers.park_language import adopt_park_language
from handlers.messages import Button
from handlers.numbers import as_id
from handlers.rendering import category_name, report_details
from storage.models import Category, Park, ReportDraft
from storage.queries import enabled_categories

CATEGORY, WHERE, WHEN, WHEN_DETAIL, WHAT, PHOTOS, CONTACT, URGENT, SUMMARY, CHANGE = (
    "category", "where", "when", "when_detail", "what", "photos", "contact", "urgent",
    "summary", "change",
)
CHANGEABLE = (CATEGORY, WHERE, WHEN, WHAT, PHOTOS, CONTACT, URGENT)
MAX_WHERE = 300
MAX_WHEN = 200
MAX_WHAT = 2000
MAX_CAPTION = 900  # a photo's caption; with "SP-0042 · foto 1/10: " it fits Telegram's 1,024


def draft_of(session: Session, person_id: int) -> ReportDraft | None:
    return session.exec(select(ReportDraft).where(ReportDraft.person_id == person_id)).first()


def start(ctx: Context, park: Park) -> None:
    """Begin a report for ``park`` (or continue an unfinished one)."""
    draft = draft_of(ctx.session, ctx.person.id)
    if draft is not None:
        ctx.reply(ctx.t("report.continuing"))
        _touch(ctx, draft)
        ask(ctx, draft)
        return
    adopt_park_language(ctx.session, ctx.person, {park.id})
    draft = ReportDraft(person_id=ctx.person.id, park_id=park.id, step=CATEGORY, data={"photos": []},
                        updated_at=ctx.now)
    ctx.session.add(draft)
    ctx.session.flush()
    ctx.reply(ctx.t("report.intro", park=park.name))
    ask(ctx, draft)


def cancel(ctx: Context) -> bool:
    draft = draft_of(ctx.session, ctx.person.id)
    if draft is None:
        return False
    ctx.session.delete(draft)
    return True


def ask(ctx: Context, draft: ReportDraft) -> None:
    """Send the question of the draft's current step."""
    b = lambda label_key, value: Button(ctx.t(label_key), data=_data(draft, value))  # noqa: E731
    step = draft.step
    if step == CATEGORY:
        categories = _categories(ctx, draft.park_id)
        buttons = [Button(category_name(c, ctx.language), data=_data(draft, str(c.id))) for c in categories]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        ctx.reply(ctx.t("report.ask_category"), rows + [[Button(ctx.t("report.signals_button"), data=ShowSignals())]])
    elif step == WHERE:
        ctx.reply(ctx.t("report.ask_where", max=MAX_WHERE))
    elif step == WHEN:
        ctx.reply(ctx.t("report.ask_when"),
                  [[b("when.now", "now")], [b("when.today", "today"), b("when.earlier", "earlier")]])
    elif step == WHEN_DETAIL:
        ctx.reply(ctx.t("report.ask_when_detail"), [[b("report.unknown_time", "unknown")]])
    elif step == WHAT:
        ctx.reply(ctx.t("report.ask_what", max=MAX_WHAT))
    elif step == PHOTOS:
        ctx.reply(ctx.t("report.ask_photos", max=ctx.services.settings.max_photos),
                  [[b("report.photos_done", "done")]])
    elif step == CONTACT:
        ctx.reply(ctx.t("report.ask_contact"),
                  [[b("contact.anonymous_button", "anon")], [b("contact.named_button", "named")]])
    elif step == URGENT:
        ctx.reply(ctx.t("report.ask_urgent"), [[b("urgent.yes", "yes"), b("urgent.no", "no")]])
    elif step == SUMMARY:
        ctx.reply(Markup(ctx.t("report.summary") + "\n\n" + _details(ctx, draft)),
                  [[b("report.send", "send")], [b("report.change", "change"), b("report.cancel", "cancel")]])
    elif step == CHANGE:
        rows = [[b(f"change.{field}", field)] for field in CHANGEABLE]
        ctx.reply(ctx.t("report.ask_change"), rows + [[b("report.back", "back")]])


def on_press(ctx: Context, draft: ReportDraft, step: str, value: str) -> str | None:
    """A button of the current step of ``draft`` (checked by the caller); returns ``"send"`` when
    the reporter sends the report."""
    data = dict(draft.data)
    if step == CATEGORY:
        ident = as_id(value)
        category = ctx.session.get(Category, ident) if ident is not None else None
        if category is None or category.park_id != draft.park_id or not category.enabled:
            return _stale(ctx)
        data["category_id"] = category.id
        _advance(ctx, draft, data, WHERE)
    elif step == WHEN and value in ("now", "today", "earlier"):
        data.update(when_kind=value, when_text=None)
        _advance(ctx, draft, data, WHAT if value == "now" else WHEN_DETAIL, keep_editing=value != "now")
    elif step == WHEN_DETAIL and value == "unknown":
        data["when_text"] = None
        _advance(ctx, draft, data, WHAT)
    elif step == PHOTOS and value == "done":
        _advance(ctx, draft, data, CONTACT)
    elif step == CONTACT and value in ("anon", "named"):
        data["anonymous"] = value == "anon"
        _advance(ctx, draft, data, URGENT)
    elif step == URGENT and value in ("yes", "no"):
        data["urgent"] = value == "yes"
        _advance(ctx, draft, data, SUMMARY)
    elif step == SUMMARY and value == "send":
        return "send"
    elif step == SUMMARY and value == "change":
        _move(ctx, draft, data, CHANGE)
    elif step == SUMMARY and value == "cancel":
        ctx.session.delete(draft)
        ctx.reply(ctx.t("report.cancelled"))
    elif step == CHANGE and value in CHANGEABLE:
        data["editing"] = True
        if value == PHOTOS:
            data["photos"], data["photo_captions"] = [], []
        _move(ctx, draft, data, value)
    elif step == CHANGE and value == "back":
        _move(ctx, draft, data, SUMMARY)
    else:
        return _stale(ctx)
    return None


def on_message(ctx: Context, draft: ReportDraft) -> None:
    """Free text, a location, a photo or something unsupported while a draft is open."""
    incoming = ctx.incoming
    data = dict(draft.data)
    text = (incoming.text or "").strip()
    step = draft.step
    if step == WHERE and incoming.location is not None:
        data.update(latitude=incoming.location[0], longitude=incoming.location[1])
        data.setdefault("where_text", None)
        return _advance(ctx, draft, data, WHEN)
    if step == PHOTOS and incoming.photo is not None:
        caption = (incoming.caption or "").strip() or None
        if caption is not None and len(caption) > MAX_CAPTION:
            return ctx.reply(ctx.t("input.too_long", max=MAX_CAPTION, length=len(caption)))
        return _add_photo(ctx, draft, data, incoming.photo, caption)
    if incoming.text is None or incoming.unsupported:
        ctx.reply(ctx.t("input.text_expected"))
        return ask(ctx, draft)
    if step == CATEGORY:
        match = _category_by_name(ctx, draft.park_id, text)
        if match is None:
            ctx.reply(ctx.t("input.use_buttons"))
            return ask(ctx, draft)
        data["category_id"] = match.id
        return _advance(ctx, draft, data, WHERE)
    if step == WHERE:
        if not _valid_text(ctx, text, MAX_WHERE):
            return None
        data.update(where_text=text, latitude=None, longitude=None)
        return _advance(ctx, draft, data, WHEN)
    if step in (WHEN, WHEN_DETAIL):
        if not _valid_text(ctx, text, MAX_WHEN):
            return None
        data.update(when_kind=data.get("when_kind") if step == WHEN_DETAIL else "described", when_text=text)
        return _advance(ctx, draft, data, WHAT)
    if step == WHAT:
        if not _valid_text(ctx, text, MAX_WHAT):
            return None
        data["what"] = text
        return _advance(ctx, draft, data, PHOTOS)
    ctx.reply(ctx.t("input.use_buttons"))
    return ask(ctx, draft)


def _add_photo(ctx: Context, draft: ReportDraft, data: dict, photo: str, caption: str | None) -> None:
    photos = list(data.get("photos", []))
    limit = ctx.services.settings.max_photos
    if len(photos) >= limit:
        ctx.reply(ctx.t("report.photos_full", max=limit),
                  [[Button(ctx.t("report.photos_done"), data=_data(draft, "done"))]])
        return
    data["photo_captions"] = photo_captions(data) + [caption]
    photos.append(photo)
    data["photos"] = photos
    _save(ctx, draft, data, PHOTOS)
    ctx.reply(ctx.t("report.photo_added_caption" if caption else "report.photo_added", count=len(photos)),
              [[Button(ctx.t("report.photos_done"), data=_data(draft, "done"))]])


def _valid_text(ctx: Context, text: str, limit: int) -> bool:
    if not text:
        ctx.reply(ctx.t("input.empty"))
        return False
    if len(text) > limit:
        ctx.reply(ctx.t("input.too_long", max=limit, length=len(text)))
        return False
    return True


def _advance(ctx: Context, draft: ReportDraft, data: dict, next_step: str, keep_editing: bool = False) -> None:
    """Go to the next step, or back to the summary when the reporter was changing one field."""
    if data.get("editing") and not keep_editing:
        data.pop("editing")
        next_step = SUMMARY
    _move(ctx, draft, data, next_step)


def _move(ctx: Context, draft: ReportDraft, data: dict, step: str) -> None:
    _save(ctx, draft, data, step)
    ask(ctx, draft)


def _save(ctx: Context, draft: ReportDraft, data: dict, step: str) -> None:
    draft.data = data
    draft.step = step
    _touch(ctx, draft)


def _touch(ctx: Context, draft: ReportDraft) -> None:
    """Written with the step's other changes when the unit of work commits (one flush, not two)."""
    draft.updated_at = ctx.now
    ctx.session.add(draft)


def _stale(ctx: Context) -> None:
    ctx.toast = ctx.t("input.stale_button")
    return None


def _data(draft: ReportDraft, value: str) -> DraftStep:
    return DraftStep(draft.id, draft.step, value)


def _categories(ctx: Context, park_id: int) -> list[Category]:
    return enabled_categories(ctx.session, park_id)


def _category_by_name(ctx: Context, park_id: int, text: str) -> Category | None:
    wanted = text.casefold()
    for category in _categories(ctx, park_id):
        if wanted in (category.name_nl.casefold(), category.name_en.casefold(), category.key.casefold()):
            return category
    return None


def _details(ctx: Context, draft: ReportDraft) -> Markup:
    data = draft.data
    category = ctx.session.get(Category, data["category_id"])
    return report_details(
        ctx.services.texts, ctx.language, category=category, where_text=data.get("where_text"),
        lat=data.get("latitude"), lon=data.get("longitude"), when_kind=data.get("when_kind", "now"),
        when_text=data.get("when_text"), what=data.get("what", ""), photo_count=len(data.get("photos", [])),
        photo_captions=photo_captions(data),
        anonymous=data.get("anonymous", True), urgent=data.get("urgent", False),
        reporter=None if data.get("anonymous", True) else ctx.person,
    )


def photo_captions(data: dict) -> list[str | None]:
    """The caption of each photo of a draft, in order (drafts from before captions have none)."""
    captions = list(data.get("photo_captions") or [])
    return (captions + [None] * len(data.get("photos", [])))[:len(data.get("photos", []))]
