"""The monthly digest's small chart: the month's counts, and the share with feedback per category.

``digest_chart`` takes the figures the digest's text shows (read in the unit of work);
``render_digest_chart`` draws them with matplotlib's Agg canvas into PNG bytes. Rendering
touches no database and no shared state (an explicit ``Figure``, never ``pyplot``), so it runs
in a worker thread after the digest's transaction, never on the event loop.

The same rule as the text: categories with fewer than ``MIN_REPORTS`` signals are not shown.
"""

import html
import io
from dataclasses import dataclass

from handlers.i18n import Translator
from handlers.outbox import Attachment

SIZE_INCHES, DPI = (7.0, 3.6), 100  # 700 × 360 pixels: small, inside every platform's photo limits


@dataclass(frozen=True)
class DigestChart:
    title: str
    counts: tuple[tuple[str, int], ...]  # (label, number) of the month
    categories: tuple[tuple[str, float], ...]  # (category, share with feedback) for categories shown
    counts_title: str
    categories_title: str


def digest_chart(texts: Translator, language: str, *, park_name: str, month_label: str, reports: int,
                 requests: int, answered: int, updates: int,
                 categories: tuple[tuple[str, float], ...]) -> DigestChart:
    t = lambda key, **values: html.unescape(str(texts(language, key, **values)))  # noqa: E731  (plain text)
    counts = ((t("digest.chart.reports"), reports), (t("digest.chart.requests"), requests),
              (t("digest.chart.answered"), answered), (t("digest.chart.updates"), updates))
    return DigestChart(title=t("digest.chart.title", park=park_name, month=month_label), counts=counts,
                       categories=categories, counts_title=t("digest.chart.counts"),
                       categories_title=t("digest.chart.categories"))


def render_digest_chart(data: DigestChart, name: str = "weerbaar-maandoverzicht.png") -> Attachment:
    """The chart as a PNG attachment (an image)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
    FigureCanvasAgg(figure)
    figure.suptitle(data.title, fontsize="medium", fontweight="bold")
    panels = figure.subplots(1, 2 if data.categories else 1, squeeze=False)[0]
    figure.subplots_adjust(left=0.2, right=0.97, top=0.82, bottom=0.12, wspace=0.9)
    counts = panels[0]
    names = [label for label, _ in data.counts]
    values = [value for _, value in data.counts]
    counts.barh(range(len(names)), values, color="#3b6ea5")
    counts.set_yticks(range(len(names)), names, fontsize=8)
    counts.invert_yaxis()  # in the order of the text
    counts.set_xlim(0, max(values + [1]) * 1.2)
    counts.xaxis.set_major_locator(MaxNLocator(integer=True))
    for position, value in enumerate(values):
        counts.text(value, position, f" {value}", va="center", fontsize=8)
    counts.set_title(data.counts_title, fontsize="small")
    if data.categories:
        shares = panels[1]
        names = [label for label, _ in data.categories]
        shares.barh(range(len(names)), [share * 100 for _, share in data.categories], color="#2e8b57")
        shares.set_yticks(range(len(names)), names, fontsize=8)
        shares.invert_yaxis()
        shares.set_xlim(0, 100)
        shares.set_title(data.categories_title, fontsize="small")
    output = io.BytesIO()
    figure.savefig(output, format="png")
    return Attachment(name=name, kind="image", mime="image/png", data=output.getvalue())
