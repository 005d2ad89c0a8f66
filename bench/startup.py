"""Start-up until the bot answers, and its memory when idle: the real ``weerbaar run`` process
on Telegram only, against the fake Bot API served from this process."""

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from tests.fake_telegram import FakeTelegram

TOKEN = "1000:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
IDLE_SETTLE_SECONDS = 3.0


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def startup(database_url: str, environ_extra: dict | None = None) -> dict:
    """Seconds from launching ``weerbaar run`` to its answer to /start; idle and peak RSS (MiB)."""
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
            await asyncio.sleep(IDLE_SETTLE_SECONDS)
            idle = _status_kib(process.pid, "VmRSS") / 1024
            peak = _status_kib(process.pid, "VmHWM") / 1024
        finally:
            process.terminate()
            await process.wait()
            await server.stop()
    return {"startup_s": answered, "idle_rss_mib": idle, "startup_peak_rss_mib": peak}
