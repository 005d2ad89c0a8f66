"""``/statistiek [period]`` (``/stats``): reciprocity figures for admins, and officials for their roles.

The figures come as text, then as a chart (drawn off the event loop) and as a CSV document
for the board, so nobody needs the server's command line.
"""

from functools import partial

from handlers import park_choice
from handlers.charts import chart_data, render_chart
from handlers.context import Context
from handlers.outbox import Attachment
from handlers.rendering import local_moment
from handlers.statistics import (
    PeriodError, figure_rows, figures_access, figures_to_csv, park_figures, parse_period, period_label, render_figures,
)
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
    data = chart_data(ctx.session, ctx.services.texts, ctx.language, park_id=park.id, park_name=park.name,
                      timezone=park.timezone, since=since, until=until, now=ctx.now, roles=access.roles,
                      period=figures)
    ctx.send_file_later(ctx.t("stats.chart.caption", period=label), partial(render_chart, data))
    day = local_moment(park, ctx.now).strftime("%Y-%m-%d")
    csv = Attachment(name=f"weerbaar-{park.slug}-{day}.csv", kind="document", mime="text/csv",
                     data=figures_to_csv(figure_rows(figures)).encode())
    ctx.send_file_later(ctx.t("stats.csv.caption", period=label), lambda: csv)
    return None
