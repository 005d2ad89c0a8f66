"""The board's chart (``/statistiek``): time per drawing and PNG size, against its goals."""

import statistics
import time

CHART_GOAL_S = 0.5
CHART_GOAL_KIB = 200


def chart_rendering(runs: int = 20) -> tuple[list[float], int]:
    """The board's chart (12 months, 4 roles) as drawn off the event loop: seconds per drawing, PNG size."""
    from handlers.charts import ChartData, render_chart

    data = ChartData(title="Terugkoppeling bij De Spaanse Polder",
                     months=tuple((f"m{month}", month * 3.5, month / 12) for month in range(1, 13)),
                     roles=(("politie", 0.8), ("gemeente", 0.6), ("parkmanager", 1.0), ("brandweer", None)),
                     labels={"median_hours": "uren", "share": "%", "by_role": "per rol", "no_data": "–"})
    render_chart(data)  # the first drawing loads matplotlib and its fonts
    timings, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        size = len(render_chart(data).data)
        timings.append(time.perf_counter() - started)
    return timings, size


def chart_line() -> str:
    timings, size = chart_rendering()
    median = statistics.median(timings)
    return (f"\n/statistiek chart (12 months, 4 roles): median {median * 1000:,.0f} ms per drawing "
            f"(goal ≤ {CHART_GOAL_S * 1000:.0f} ms), PNG {size / 1024:,.0f} KiB (goal ≤ {CHART_GOAL_KIB} KiB)")
