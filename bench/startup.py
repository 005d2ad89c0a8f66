"""Start-up until the bot answers, and its memory when idle: the real ``weerbaar run`` process
on Telegram only, against the fake Bot API served from this process.

The bot runs as deployed (the container image: ``pip install .``, no test extras), not from the
development venv, in two respects:

* its interpreter is a venv with the project's runtime dependencies only, made once in
  ``bench/.cache/runtime-venv-<hash>`` (``pip install``; the development venv is used when that
  fails, and the figures say so). The development venv also holds the test extras: Synapse
  brings ``cryptography``, which python-telegram-bot then imports at start (~10 MiB, ~40 ms of
  CPU measured) although no deployment has it;
* the project's modules are byte-compiled first, as ``pip install`` does: an editable install
  under ``PYTHONDONTWRITEBYTECODE`` (set on the reference machine) would otherwise compile all
  ~90 of them from source at every start, ~0.2 s of CPU that no deployed bot spends.

Besides the wall-clock time, the bot's own CPU seconds until it answered are read from
``/proc``: on a shared machine they vary far less than the wall clock.
"""

import asyncio
import compileall
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from bench.process_stats import cpu_seconds, status_kib
from tests.fake_telegram import FakeTelegram

TOKEN = "1000:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
IDLE_SETTLE_SECONDS = 3.0
STARTS = 3  # the wall clock of one start on shared cores is noisy: the median of three
ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage")


def runtime_python() -> tuple[str, str]:
    """The interpreter of a deployment: the runtime venv's (made once), or this development venv's
    when the runtime venv cannot be made; and which one it is (``runtime`` or ``development``)."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    key = hashlib.sha256("\n".join([sys.version, *sorted(dependencies)]).encode()).hexdigest()[:12]
    cache = ROOT / "bench" / ".cache"
    target = cache / f"runtime-venv-{key}"
    if not (target / "complete").exists():
        cache.mkdir(exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=cache, prefix="runtime-venv-building-"))
        try:
            subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, capture_output=True)
            subprocess.run([str(building / "bin" / "python"), "-m", "pip", "install", "--quiet", *dependencies],
                           check=True, capture_output=True)
            (building / "complete").touch()
            building.rename(target)  # a venv runs from where it lies with `python -m`
        except (OSError, subprocess.CalledProcessError) as error:
            shutil.rmtree(building, ignore_errors=True)
            if not (target / "complete").exists():  # else another run made it meanwhile
                print(f"no runtime venv ({error}); the development venv runs the bot", file=sys.stderr)
                return sys.executable, "development"
    return str(target / "bin" / "python"), "runtime"


def compile_project() -> None:
    """Byte-compile the project's modules, as installing the package does."""
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)


async def startup(database_url: str, environ_extra: dict | None = None, starts: int = STARTS) -> dict:
    """Seconds (wall and the bot's CPU) from launching ``weerbaar run`` to its answer to /start,
    the median of ``starts`` starts one after another; idle RSS (median) and peak RSS (MiB)."""
    compile_project()
    python, venv = runtime_python()
    server = FakeTelegram(bot_username="weerbaar_bench_bot", token=TOKEN)
    await server.start()
    user = server.add_user("Starter", language_code="nl")
    samples = []
    try:
        with tempfile.TemporaryDirectory() as directory:
            config = Path(directory) / "config.toml"
            config.write_text(
                f'[database]\nurl = "{database_url}"\n'
                f'[telegram]\nbase_url = "{server.base_url}"\nbase_file_url = "{server.base_file_url}"\n'
                '[bot]\nsweep_interval = "1d"\n'
                '[[parks]]\nslug = "park-0000"\nname = "Bedrijventerrein 0000"\nprefix = "AAAA"\n'
                '[[parks.categories]]\nkey = "drugs"\nname_nl = "Drugs"\nname_en = "Drugs"\nroles = ["police"]\n')
            environ = {**os.environ, "WEERBAAR_TELEGRAM_TOKEN": TOKEN, **(environ_extra or {})}
            for _ in range(starts):  # one fake Bot API for all: each /start is a new update
                samples.append(await _start_once(python, config, environ, server, user))
    finally:
        await server.stop()
    return {"startup_s": statistics.median(sample[0] for sample in samples),
            "startup_cpu_s": statistics.median(sample[1] for sample in samples),
            "idle_rss_mib": statistics.median(sample[2] for sample in samples),
            "startup_peak_rss_mib": max(sample[3] for sample in samples),
            "startup_starts": [round(sample[0], 2) for sample in samples], "startup_venv": venv}


async def _start_once(python: str, config: Path, environ: dict, server: FakeTelegram, user) -> tuple:
    """One start: (wall seconds, CPU seconds) until the answer, then idle and peak RSS (MiB)."""
    began = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        python, "-m", "bot", "run", "--config", str(config), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL, cwd=ROOT, env=environ)
    try:
        user.send(user.private, "/start")
        await server.next_message(user.private, timeout=120)
        answered = time.perf_counter() - began
        answered_cpu = cpu_seconds(process.pid)
        await asyncio.sleep(IDLE_SETTLE_SECONDS)
        return (answered, answered_cpu, status_kib(process.pid, "VmRSS") / 1024,
                status_kib(process.pid, "VmHWM") / 1024)
    finally:
        process.terminate()
        await process.wait()
