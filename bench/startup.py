"""Start-up until the bot answers, and its memory when idle: the real ``weerbaar run`` process
on Telegram only, against the fake Bot API served from this process.

The project's modules are byte-compiled first, as ``pip install`` does for a deployment (the
container image): an editable install under ``PYTHONDONTWRITEBYTECODE`` (set on the reference
machine) would otherwise compile all ~90 of them from source at every start, ~0.2 s of CPU that
no deployed bot spends. Besides the wall-clock time, the bot's own CPU seconds until it
answered are read from ``/proc``: on a shared machine they vary far less than the wall clock.
"""

import asyncio
import compileall
import os
import sys
import tempfile
import time
from pathlib import Path

from tests.fake_telegram import FakeTelegram

TOKEN = "1000:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
IDLE_SETTLE_SECONDS = 3.0
ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage")


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def compile_project() -> None:
    """Byte-compile the project's modules, as installing the package does."""
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)


async def startup(database_url: str, environ_extra: dict | None = None) -> dict:
    """Seconds (wall and the bot's CPU) from launching ``weerbaar run`` to its answer to /start;
    idle and peak RSS (MiB)."""
    compile_project()
    server = FakeTelegram(bot_username="weerbaar_bench_bot", token=TOKEN)
    await server.start()
    user = server.add_user("Starter", language_code="nl")
    with tempfile.TemporaryDirectory() as directory:
        config = Path(directory) / "config.toml"
        config.write_text(
            f'[database]\nurl = "{database_url}"\n'
            f'[telegram]\nbase_url = "{server.base_url}"\nbase_file_url = "{server.base_file_url}"\n'
            '[bot]\nsweep_interval = "1d"\n'
            '[[parks]]\nslug = "park-0000"\nname = "Bedrijventerrein 0000"\nprefix = "AAAA"\n'
            '[[parks.categories]]\nkey = "drugs"\nname_nl = "Drugs"\nname_en = "Drugs"\nroles = ["police"]\n')
        weerbaar = Path(sys.executable).with_name("weerbaar")
        began = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            str(weerbaar), "run", "--config", str(config), stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, "WEERBAAR_TELEGRAM_TOKEN": TOKEN, **(environ_extra or {})})
        try:
            user.send(user.private, "/start")
            await server.next_message(user.private, timeout=120)
            answered = time.perf_counter() - began
            answered_cpu = _cpu_seconds(process.pid)
            await asyncio.sleep(IDLE_SETTLE_SECONDS)
            idle = _status_kib(process.pid, "VmRSS") / 1024
            peak = _status_kib(process.pid, "VmHWM") / 1024
        finally:
            process.terminate()
            await process.wait()
            await server.stop()
    return {"startup_s": answered, "startup_cpu_s": answered_cpu, "idle_rss_mib": idle, "startup_peak_rss_mib": peak}
