"""``/statistiek [period]`` (``/stats``): reciprocity figures for admins, and officials for their roles."""

from handlers import park_choice
from handlers.context import Context
from handlers.statistics import PeriodError, figures_access, park_figures, parse_period, period_label, render_figures
from storage.models import Park


def stats_command(ctx: Context, args: str) -> None:
    parks = {park.id: park for park in park_choice.admin_parks(ctx) + park_choice.official_parks(ctx)}
    if not parks:
        return ctx.reply(ctx.t("open.not_official"))
    park: Park | None = park_choice.choose(ctx, sorted(parks.values(), key=lambda p: p.id), "stats", args)
    if park is None:
        return None
    access = figures_access(ctx.session, ctx.person.id, park.id)
    try:
        since, until, label_key = parse_period(args, ctx.now, park.timezone)
    except PeriodError as error:
        return ctx.reply(ctx.t(error.key))
    figures = park_figures(ctx.session, park.id, since, until, ctx.now, role=access.roles)
    label = period_label(ctx.services.texts, ctx.language, since, until, label_key, park.timezone)
    ctx.reply(render_figures(ctx.services.texts, ctx.language, park.name, label, figures))
    return None
