"""The scan's questions: the default set, a park's own changes to it, and how they read."""

from sqlmodel import Session, select

from handlers import audit
from handlers.context import Context
from handlers.i18n import Markup, Translator
from storage.models import Park, ScanQuestionSet
from storage.queries import enabled_categories

LIKERT = ("1", "2", "3", "4", "5")
SKIP_OPTION = "none"
MAX_QUESTION = 200


def default_questions(park_categories) -> list[dict]:
    """The default question set; the signals question lists the park's own categories."""
    signals = [{"value": category.key, "nl": category.name_nl, "en": category.name_en} for category in park_categories]
    return [
        {"key": "safe", "kind": "likert"},
        {"key": "signals", "kind": "multi", "options": signals},
        {"key": "trust_police", "kind": "likert"},
        {"key": "trust_municipality", "kind": "likert"},
        {"key": "trust_park", "kind": "likert"},
        {"key": "willing", "kind": "likert"},
        {"key": "feedback", "kind": "choice", "options": [{"value": value} for value in ("yes", "no", "not_reported")]},
    ]


def park_questions(session: Session, park: Park) -> list[dict]:
    """The park's question set: the defaults with the admins' changes (switched off, own wording)."""
    changes = question_set(session, park).changes
    return [{**question, "enabled": True, **changes.get(question["key"], {})}
            for question in default_questions(enabled_categories(session, park.id))]


def question_set(session: Session, park: Park) -> ScanQuestionSet:
    found = session.exec(select(ScanQuestionSet).where(ScanQuestionSet.park_id == park.id)).first()
    return found or ScanQuestionSet(park_id=park.id, changes={})


def question_text(texts: Translator, language: str, question: dict) -> str:
    """The park's own wording in this language, else the built-in text."""
    return question.get(language) or texts(language, f"scan.q.{question['key']}")


def options(question: dict) -> list[dict]:
    if question["kind"] == "multi":
        return [*question["options"], {"value": SKIP_OPTION}]
    return question["options"]


def option_label(texts: Translator, language: str, question: dict, option: dict) -> str:
    if option["value"] == SKIP_OPTION:
        return texts(language, "scan.option.none")
    if question["key"] == "signals":
        return option.get(language) or option.get("nl") or option["value"]
    return texts(language, f"scan.option.{question['key']}.{option['value']}")


def list_questions(ctx: Context, park: Park) -> None:
    lines = [ctx.t("scan.questions_header", park=park.name)]
    for number, question in enumerate(park_questions(ctx.session, park), start=1):
        lines.append(ctx.t("scan.question_line", number=number, state="✅" if question["enabled"] else "⛔",
                           text=question_text(ctx.services.texts, ctx.language, question)))
    lines.append(ctx.t("scan.questions_usage"))
    return ctx.reply(Markup("\n".join(lines)))


def change_question(ctx: Context, park: Park, args: str) -> None:
    """``vraag N uit|aan|standaard`` or ``vraag N tekst NL | EN``."""
    number, _, rest = args.partition(" ")
    questions = park_questions(ctx.session, park)
    if not number.lstrip("#").isdigit() or not 1 <= int(number.lstrip("#")) <= len(questions):
        return ctx.reply(ctx.t("scan.questions_usage"))
    question = questions[int(number.lstrip("#")) - 1]
    action, _, text = rest.strip().partition(" ")
    action = action.lower()
    changeable = question_set(ctx.session, park)
    changes = {key: dict(value) for key, value in changeable.changes.items()}
    before = dict(changes.get(question["key"], {}))
    change = changes.setdefault(question["key"], {})
    if action in ("uit", "off", "aan", "on"):
        change["enabled"] = action in ("aan", "on")
    elif action in ("standaard", "default"):
        changes.pop(question["key"], None)
    elif action in ("tekst", "text"):
        dutch, bar, english = text.partition("|")
        dutch, english = dutch.strip(), english.strip()
        if not bar or not dutch or not english:
            return ctx.reply(ctx.t("scan.questions_usage"))
        if max(len(dutch), len(english)) > MAX_QUESTION:
            return ctx.reply(ctx.t("input.too_long", max=MAX_QUESTION, length=max(len(dutch), len(english))))
        change.update(nl=dutch, en=english)
    else:
        return ctx.reply(ctx.t("scan.questions_usage"))
    changeable.changes = changes
    ctx.session.add(changeable)
    audit.record(ctx, park, "scan.question", subject=question["key"], before=before or None,
                 after=changes.get(question["key"]))
    return list_questions(ctx, park)
