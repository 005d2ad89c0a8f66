"""The real ``weerbaar run`` as a child process, on the fake Bot API: for crash and fault tests.

The test's fake Telegram runs in the test's event loop; the bot is a separate process with
its own config file, so it can be killed with SIGKILL at any moment and started again.
"""

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from bot.bootstrap import prepare_database
from bot.config import load_config
from handlers.invites import create_invite
from handlers.clock import SystemClock
from tests.fake_telegram import FakeTelegram
from tests.harness import OTHER_PARK, PARK, park_table

ROOT = Path(__file__).resolve().parent.parent


def to_toml(tables: dict) -> str:
    """Just enough TOML for a config: tables, arrays of tables, strings, numbers, lists."""
    lines: list[str] = []

    def value(item) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, (int, float)):
            return str(item)
        if isinstance(item, str):
            return json.dumps(item)
        return "[" + ", ".join(value(element) for element in item) + "]"

    def table(name: str, content: dict, array: bool = False) -> None:
        lines.append(f"[[{name}]]" if array else f"[{name}]")
        nested = []
        for key, item in content.items():
            if isinstance(item, dict):
                nested.append((f"{name}.{key}", item, False))
            elif isinstance(item, list) and item and isinstance(item[0], dict):
                nested.extend((f"{name}.{key}", element, True) for element in item)
            else:
                lines.append(f"{key} = {value(item)}")
        for args in nested:
            table(*args)

    for name, content in tables.items():
        if isinstance(content, list):
            for element in content:
                table(name, element, array=True)
        else:
            table(name, content)
    return "\n".join(lines) + "\n"


class BotProcess:
    """``weerbaar run --config ...`` against ``server``; start, kill (SIGKILL), stop (SIGTERM)."""

    def __init__(self, tmp_path: Path, server: FakeTelegram | None, database_url: str | None = None,
                 telegram: dict | None = None, environ: dict | None = None, matrix: dict | None = None,
                 monitoring_port: int | None = None):
        """``telegram``: more ``[telegram]`` keys (webhook mode); ``environ``: more variables (its secret).

        Without ``server`` the deployment has no Telegram (``matrix`` only); ``monitoring_port``
        serves ``/healthz`` there (its role: leader or standby).
        """
        self.server = server
        self.log_path = tmp_path / "bot.log"
        self.config_path = tmp_path / "config.toml"
        self.database_url = database_url or f"sqlite:///{tmp_path / 'weerbaar.db'}"
        tables = {"database": {"url": self.database_url}}
        if server is not None:
            tables["telegram"] = {"base_url": server.base_url, "base_file_url": server.base_file_url,
                                  **(telegram or {})}
        tables["bot"] = {"draft_idle_timeout": "2h", "sweep_interval": "1h", "log_level": "INFO"}
        if matrix:
            tables["matrix"] = matrix
        if monitoring_port is not None:
            tables["monitoring"] = {"port": monitoring_port}
        tables["parks"] = [park_table(PARK, "De Spaanse Polder", "SP"), park_table(OTHER_PARK, "Noorderveld", "NV")]
        self.config_path.write_text(to_toml(tables))
        self.environ = {**os.environ, "PYTHONPATH": str(ROOT), **(environ or {})}
        if server is not None:
            self.environ["WEERBAAR_TELEGRAM_TOKEN"] = server.token
        self.webhook = (telegram or {}).get("mode") == "webhook"
        self.config = load_config(self.config_path, environ=self.environ)
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0

    def prepare(self):
        """Migrate the database and apply the parks, as ``weerbaar run`` would; returns the Database."""
        return prepare_database(self.config)

    def invite(self, db, role: str, park: str = PARK) -> str:
        with db.transaction() as session:
            return create_invite(session, park_slug=park, role=role, allowed_roles=self.config.official_roles,
                                 now=SystemClock().now(), valid_for=self.config.invite_valid_for).code

    async def start(self, wait: bool = True) -> None:
        """Start the bot; with ``wait``, until it polls the fake for updates (webhook mode: sets its webhook)."""
        polls_before = self._polls()
        with self.log_path.open("a") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--config", str(self.config_path),
                env=self.environ, cwd=str(ROOT), stdout=log, stderr=log)
        self.starts += 1
        if wait:
            await self.server.wait_for_calls(self._ready_call, polls_before + 1, timeout=60)

    @property
    def _ready_call(self) -> str:
        return "setWebhook" if self.webhook else "getUpdates"

    def _polls(self) -> int:
        if self.server is None:
            return 0
        return sum(1 for request in self.server.requests if request.method.lower() == self._ready_call.lower())

    def kill_now(self) -> None:
        """SIGKILL, right now (usable from a fake's request callback)."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            self.kills += 1

    async def kill(self) -> None:
        self.kill_now()
        if self.process is not None and self.process.returncode is None:
            await self.process.wait()

    async def stop(self) -> int:
        if self.process is None:
            return 0
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(30):
                return await self.process.wait()
        except TimeoutError:
            await self.kill()
            raise

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""
