"""The charts: the board's (``/statistiek``) against its goals, and the monthly digest's and the park
scan's (issue 12) drawn in the same run, as ratios to the board's.

Run alone: ``.venv/bin/python bench/chart.py``; ``bench/national.py`` prints the board's line too.
"""

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
    return _timed(lambda: render_chart(data), runs)


def digest_chart_rendering(runs: int = 20) -> tuple[list[float], int]:
    """The monthly digest's chart (four counts, five categories shown)."""
    from handlers.park_digest_chart import DigestChart, render_digest_chart

    data = DigestChart(title="De Spaanse Polder — november 2026",
                       counts=(("Signalen", 23), ("Oproepen", 2), ("Oproepen beantwoord", 2), ("Berichten", 4)),
                       categories=tuple((f"soort {n}", n / 6) for n in range(1, 6)),
                       counts_title="Deze maand", categories_title="% met terugkoppeling")
    return _timed(lambda: render_digest_chart(data), runs)


def scan_chart_rendering(runs: int = 20) -> tuple[list[float], int]:
    """The park scan's chart (the default set: five 1–5 questions with a previous scan, ten answer shares)."""
    from handlers.park_scan_chart import ScanChart, render_scan_chart

    data = ScanChart(title="Scan De Spaanse Polder, gesloten 7 dec 2026",
                     likert=tuple((f"Vraag {n} over hoe veilig het bedrijventerrein voelt", 3 + n / 5, 3.2)
                                  for n in range(5)),
                     shares=tuple((f"Welke signalen… optie {n}", n / 10) for n in range(10)),
                     labels={"means": "Gemiddelde", "now": "Deze scan", "previous": "Vorige", "shares": "%"})
    return _timed(lambda: render_scan_chart(data), runs)


def _timed(draw, runs: int) -> tuple[list[float], int]:
    draw()  # the first drawing loads matplotlib and its fonts
    timings, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        size = len(draw().data)
        timings.append(time.perf_counter() - started)
    return timings, size


def chart_line() -> str:
    timings, size = chart_rendering()
    median = statistics.median(timings)
    return (f"\n/statistiek chart (12 months, 4 roles): median {median * 1000:,.0f} ms per drawing "
            f"(goal ≤ {CHART_GOAL_S * 1000:.0f} ms), PNG {size / 1024:,.0f} KiB (goal ≤ {CHART_GOAL_KIB} KiB)")


def park_chart_lines() -> str:
    """The digest's and the scan's charts beside the board's, in one run (ratios, not absolute goals)."""
    board, _ = chart_rendering()
    base = statistics.median(board)
    lines = [f"board chart: median {base * 1000:,.0f} ms (1.00×)"]
    for name, measure in (("digest chart", digest_chart_rendering), ("scan chart", scan_chart_rendering)):
        timings, size = measure()
        median = statistics.median(timings)
        lines.append(f"{name}: median {median * 1000:,.0f} ms ({median / base:.2f}× the board's), "
                     f"PNG {size / 1024:,.0f} KiB")
    return "\n".join(lines)


if __name__ == "__main__":
    print(chart_line())
    print(park_chart_lines())
