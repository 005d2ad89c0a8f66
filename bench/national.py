"""The national-scale benchmark (``make bench``, after bench/run.py): one table, SQLite and PostgreSQL, 10k to 1M reports.

``python bench/national.py [--sizes 10000,100000,1000000] [--backends sqlite,postgresql] [--no-drain]``

Each store is built once and cached (``bench/store.py``); each (backend, size) is measured
in its own process (``bench/measure.py``) so its peak RSS is the bot's own, on the interpreter
of a deployment (the runtime dependencies only, ``bench/startup.py``). The drain through the
real dispatcher and the fake Bot API runs on the largest size, in a process of its own (it
serves the fake Bot API too, which is no part of the bot); so do the PostgreSQL plans of the
hot queries. Exits non-zero when a hot query scans a large table sequentially or when
a figure misses its goal (the last column of the table). The columns "10k→1,000k" show how each
timing grows from the smallest to the largest store (×1.0 is flat).

The board's chart (``/statistiek``, 12 months, 4 roles; ``bench/chart.py``) is measured once,
in this process: drawn in a worker thread in under 500 ms with a PNG under 200 KiB (measured
2026-11-30 on the shared machine at load average 9 on 2 cores: 656 ms, 41 KiB; a computed
"constrained" layout took 1.07 s there against 0.74 s for the fixed one, so the chart uses a
fixed layout).
"""

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.chart import chart_line  # noqa: E402
from bench.startup import runtime_python, startup  # noqa: E402
from bench.store import POSTGRES_DEFAULT, ensure_postgres_url, sqlite_url  # noqa: E402

ROWS = [
    # key, label, unit, goal (seconds or MiB; None: shown only)
    ("chunk_s", "one sweep chunk (≤1,000 due reports)", "ms", 1.0),
    ("sweep_s", "whole sweep of all due reports", "s", None),
    ("due", "  due reports", "n", None),
    ("reminder_digests", "  reminder digests (one per official)", "n", None),
    ("escalation_digests", "  escalation digests (one per admin)", "n", None),
    ("drain_s", "drain all digests via dispatcher + fake Bot API", "s", None),
    ("drain_ratio", "  drain ÷ limit-optimal (30 msg/s)", "x", 1.1),
    ("rate_limited", "  429 answers from the fake Bot API during the drain", "n", 0),
    ("open_s", "/open, coordinator of 100 parks", "ms", 1.0),
    ("mine_s", "/mijnmeldingen", "ms", 1.0),
    ("stats_park_s", "/statistiek, largest park (30 days): the answer", "ms", 1.0),
    ("stats_park_files_s", "  with the chart drawn and the CSV made after it", "ms", None),
    ("stats_all_s", "/statistiek alles, largest park: the answer", "ms", 1.0),
    ("stats_all_files_s", "  with the chart drawn and the CSV made after it", "ms", None),
    ("stats_all_first_s", "  the first one, every month's summary counted afresh", "ms", 1.0),
    ("melden_s", "/melden with 3,800 linked groups", "ms", 1.0),
    ("melden_questions", "  membership questions per /melden", "n", None),
    ("startup_s", "start-up until the bot answers", "s", 1.0),
    ("startup_cpu_s", "  the bot's CPU until it answered", "s", None),
    ("idle_rss_mib", "bot RSS idle, Telegram only", "MiB", 100),
    ("peak_rss_mib", "peak RSS of the measuring bot process", "MiB", 200),
    ("drain_peak_rss_mib", "  peak RSS of the drain's process (bot and fake Bot API)", "MiB", None),
]


def measure(python: str, backend: str, size: int, largest: bool, drain: bool) -> dict:
    """The figures of one store, each measuring process on the deployment's interpreter; the drain
    in a process of its own (it serves the fake Bot API too)."""
    command = [python, str(ROOT / "bench" / "measure.py"), backend, str(size)]
    if largest and backend == "postgresql":
        command.append("--explain")
    print(f"… measuring {backend} with {size:,} reports", file=sys.stderr, flush=True)
    figures = _run(command, f"measuring {backend} {size}")
    if largest and drain:
        print(f"… draining {backend} with {size:,} reports", file=sys.stderr, flush=True)
        figures.update(_run([python, str(ROOT / "bench" / "measure.py"), backend, str(size), "--drain"],
                            f"draining {backend} {size}"))
    return figures


def _run(command: list[str], what: str) -> dict:
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-4000:])
        raise SystemExit(f"{what} failed")
    return json.loads(result.stdout.strip().splitlines()[-1])


def cell(key: str, value) -> str:
    if value is None:
        return "–"
    unit = next(row[2] for row in ROWS if row[0] == key)
    if unit == "ms":
        return f"{value * 1000:,.0f} ms"
    if unit == "s":
        return f"{value:,.1f} s"
    if unit == "x":
        return f"{value:.2f}×"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    return f"{value:,.0f}" if isinstance(value, (int, float)) and float(value).is_integer() else f"{value:,.1f}"


GROWING = ("ms", "s")  # rows whose growth from the smallest to the largest store is shown


def growth(results: dict[tuple[str, int], dict], backend: str, sizes: list[int], key: str) -> str:
    """How a timing grows from the smallest to the largest store (×1.0: flat)."""
    small, large = (results.get((backend, size), {}).get(key) for size in (min(sizes), max(sizes)))
    if len(sizes) < 2 or not small or large is None:
        return ""
    return f"×{large / small:.1f}"


def table(results: dict[tuple[str, int], dict], backends: list[str], sizes: list[int]) -> str:
    columns = [(backend, size) for backend in backends for size in sizes]
    names = {"sqlite": "SQLite", "postgresql": "PG"}
    span = f"{min(sizes) // 1000:,}k→{max(sizes) // 1000:,}k"
    header = ["what", *(f"{names[b]} {s:,}" for b, s in columns), *(f"{names[b]} {span}" for b in backends), "goal"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key, label, unit, goal in ROWS:
        values = [results.get(column, {}).get(key) for column in columns]
        if all(value is None for value in values):
            continue
        goal_text = "" if goal is None else ("≤ " + cell(key, goal) if unit != "x" else f"≤ {goal:.2f}×")
        growths = [growth(results, backend, sizes, key) if unit in GROWING else "" for backend in backends]
        lines.append("| " + " | ".join([label, *(cell(key, value) for value in values), *growths, goal_text]) + " |")
    return "\n".join(lines)


# Judged on the largest store only: the chunk figure is the whole sweep divided by its chunks, so
# on a store with one chunk it is mostly the sweep's one-time start (holiday calendar, locale data).
LARGEST_ONLY = ("chunk_s",)


def missed_budgets(results: dict[tuple[str, int], dict]) -> list[str]:
    """Every figure over its goal, as text; the benchmark fails on any."""
    missed = []
    largest = max((size for _, size in results), default=0)
    for (backend, size), figures in sorted(results.items()):
        for key, label, _, goal in ROWS:
            if key in LARGEST_ONLY and size != largest:
                continue
            value = figures.get(key)
            if goal is not None and value is not None and value > goal:
                missed.append(f"{label.strip()} on {backend} with {size:,} reports: {cell(key, value)} "
                              f"(goal {cell(key, goal)})")
    return missed


def phase_lines(results: dict[tuple[str, int], dict], backends: list[str], size: int) -> str:
    """Where the peaks of the largest store come from: each phase's peak RSS (MiB)."""
    lines = [f"Peak RSS per phase with {size:,} reports (MiB):"]
    for backend in backends:
        figures = results.get((backend, size), {})
        for key in ("rss_phases_mib", "drain_rss_phases_mib"):
            if figures.get(key):
                phases = ", ".join(f"{name} {peak:.0f}" for name, peak in figures[key].items())
                lines.append(f"  {backend}: {phases}")
    return "\n".join(lines)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return f"{os.cpu_count()} cores ({cpu}), {int(memory) // 1024 // 1024} GiB RAM, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--no-drain", action="store_true")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    backends = args.backends.split(",")
    results: dict[tuple[str, int], dict] = {}
    python, venv = runtime_python()
    load_at_start = os.getloadavg()
    for backend in backends:
        for size in sizes:
            results[(backend, size)] = measure(python, backend, size, size == max(sizes), not args.no_drain)
        largest = (backend, max(sizes))
        url = sqlite_url(max(sizes)) if backend == "sqlite" else ensure_postgres_url(POSTGRES_DEFAULT, max(sizes))
        print(f"… start-up of `weerbaar run` on {backend} with {max(sizes):,} reports", file=sys.stderr, flush=True)
        results[largest].update(asyncio.run(startup(url)))

    print(f"\nWeerbaar benchmark — {machine()}; load average at the start "
          f"{' '.join(f'{load:.1f}' for load in load_at_start)} (a shared machine: other jobs run beside it)\n")
    print(table(results, backends, sizes))
    print(f"\nThe bot ran on the {venv} venv ({'the runtime dependencies only, as deployed' if venv == 'runtime' else 'with the test extras: not as deployed'}).")
    starts = "; ".join(f"{backend} {', '.join(f'{seconds:.2f}' for seconds in results[(backend, max(sizes))]['startup_starts'])}"
                       for backend in backends)
    print(f"Start-up, the median of these starts (s): {starts}.")
    print(phase_lines(results, backends, max(sizes)))
    print(chart_line())
    failures = []
    for (backend, size), figures in results.items():
        for plan in figures.get("plans", []):
            if plan["seq_scans_of_large"]:
                failures.append(plan)
    if any(figures.get("plans") for figures in results.values()):
        print("\nPostgreSQL plans of the hot queries (largest store):")
        for figures in results.values():
            for plan in figures.get("plans", []):
                lines = [line if len(line) <= 160 else line[:157] + "..." for line in plan["plan"].splitlines()]
                print(f"\n-- {plan['statement']}\n" + "\n".join(lines))
    if failures:
        print("\nFAIL: sequential scans of large tables:")
        for plan in failures:
            print(f"  {', '.join(plan['seq_scans_of_large'])}: {plan['statement']}")
    missed = missed_budgets(results)
    if missed:
        print("\nFAIL: over budget:")
        for line in missed:
            print(f"  {line}")
    print(f"\nload average at the end: {' '.join(f'{load:.1f}' for load in os.getloadavg())} "
          f"on {os.cpu_count()} cores")
    return 1 if failures or missed else 0


if __name__ == "__main__":
    sys.exit(main())
