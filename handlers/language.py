"""``/taal`` (``/language``): the person's language on every platform."""

from handlers.buttons import LanguageChoice
from handlers.context import Context
from handlers.i18n import LANGUAGES
from handlers.messages import Button


def set_language(ctx: Context, args: str) -> None:
    wanted = args.strip().lower()[:2]
    if wanted not in LANGUAGES:
        ctx.reply(ctx.t("language.choose"), [[Button("Nederlands", data=LanguageChoice("nl")), Button("English", data=LanguageChoice("en"))]])
        return
    choose(ctx, wanted)


def choose(ctx: Context, language: str) -> None:
    if language not in LANGUAGES:
        ctx.toast = ctx.t("input.stale_button")
        return
    ctx.person.language = language
    ctx.person.language_chosen = True
    ctx.session.add(ctx.person)
    ctx.reply(ctx.t("language.set"))
