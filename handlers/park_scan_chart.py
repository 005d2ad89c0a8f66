"""The park scan's chart: the mean of each Likert question beside the previous scan's, and the
share of respondents per answer of the other questions.

Built from the k-anonymous results only (:mod:`handlers.park_scan_results`): a question with too
few answers is not in it. Drawn with matplotlib's Agg canvas on an explicit ``Figure`` (no
``pyplot``, no shared state), in a worker thread after the answer, never on the event loop.
"""

import html
import io
import textwrap
from dataclasses import dataclass

from handlers.i18n import Translator
from handlers.outbox import Attachment

WIDTH_INCHES, ROW_INCHES, DPI = 8.0, 0.32, 100
WRAP = 38


@dataclass(frozen=True)
class ScanChart:
    title: str
    likert: tuple[tuple[str, float, float | None], ...]  # (question, mean, previous mean)
    shares: tuple[tuple[str, float], ...]  # ("question: answer", share of the question's respondents)
    labels: dict[str, str]


def scan_chart(texts: Translator, language: str, *, park_name: str, when: str, results) -> ScanChart:
    t = lambda key, **values: html.unescape(str(texts(language, key, **values)))  # noqa: E731  (plain text)
    likert, shares = [], []
    for result in results:
        if not result.shown:
            continue
        if result.kind == "likert":
            likert.append((result.text, result.mean, result.previous_mean))
        else:
            for label, count in result.spread:
                question = textwrap.shorten(result.text, 24, placeholder="…")
                shares.append((f"{question} {label}", count / result.answered))
    return ScanChart(title=t("scan.chart.title", park=park_name, when=when), likert=tuple(likert),
                     shares=tuple(shares),
                     labels={key: t(f"scan.chart.{key}") for key in ("means", "now", "previous", "shares")})


def render_scan_chart(data: ScanChart, name: str = "weerbaar-scan.png") -> Attachment:
    """The chart as a PNG attachment (an image)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = [panel for panel in (data.likert, data.shares) if panel]
    rows = sum(len(panel) for panel in panels) or 1
    figure = Figure(figsize=(WIDTH_INCHES, 1.2 + ROW_INCHES * rows * 1.6 + 0.6 * len(panels)), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.suptitle(data.title, fontsize="medium", fontweight="bold")
    if not panels:
        return _save(figure, name)
    axes_list = figure.subplots(len(panels), 1, squeeze=False,
                                gridspec_kw={"height_ratios": [max(len(panel), 1) for panel in panels]})[:, 0]
    figure.subplots_adjust(left=0.42, right=0.97, top=1 - 0.9 / figure.get_figheight(), bottom=0.06, hspace=0.35)
    axes_iter = iter(axes_list)
    if data.likert:
        axes = next(axes_iter)
        positions = range(len(data.likert))
        names = [textwrap.fill(question, WRAP) for question, _, _ in data.likert]
        axes.barh([p - 0.2 for p in positions], [mean for _, mean, _ in data.likert], height=0.38,
                  color="#3b6ea5", label=data.labels["now"])
        if any(previous is not None for _, _, previous in data.likert):
            axes.barh([p + 0.2 for p in positions], [previous or 0 for _, _, previous in data.likert], height=0.38,
                      color="#a9c1dc", label=data.labels["previous"])
            axes.legend(fontsize=7, loc="lower right")
        axes.set_yticks(list(positions), names, fontsize=7)
        axes.set_xlim(0, 5)
        axes.invert_yaxis()
        axes.set_title(data.labels["means"], fontsize="small")
    if data.shares:
        axes = next(axes_iter)
        positions = range(len(data.shares))
        axes.barh(list(positions), [share * 100 for _, share in data.shares], color="#2e8b57")
        axes.set_yticks(list(positions), [textwrap.shorten(label, WRAP + 10) for label, _ in data.shares], fontsize=7)
        axes.set_xlim(0, 100)
        axes.invert_yaxis()
        axes.set_title(data.labels["shares"], fontsize="small")
    return _save(figure, name)


def _save(figure, name: str) -> Attachment:
    output = io.BytesIO()
    figure.savefig(output, format="png")
    return Attachment(name=name, kind="image", mime="image/png", data=output.getvalue())
