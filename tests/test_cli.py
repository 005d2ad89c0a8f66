"""The ``weerbaar`` command as an operator uses it: invite, db upgrade, run."""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from storage.db import make_engine
from tests.conftest import TEST_TOKEN

EXAMPLE = Path(__file__).parent.parent / "config.example.toml"


def write_config(tmp_path: Path, telegram: str = "") -> Path:
    text = EXAMPLE.read_text().replace('url = "sqlite:///data/weerbaar.db"', 'url = "sqlite:///state/bot.db"')
    text = text.replace("# bot_username = \"weerbaar_bot\"", "bot_username = \"weerbaar_test_bot\"")
    if telegram:
        text = text.replace('token_env = "WEERBAAR_TELEGRAM_TOKEN"', f'token_env = "WEERBAAR_TELEGRAM_TOKEN"\n{telegram}')
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def weerbaar(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "WEERBAAR_TELEGRAM_TOKEN": TEST_TOKEN, **(env or {})}
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=environment,
                          timeout=60)


def test_db_upgrade_creates_the_schema(tmp_path):
    config = write_config(tmp_path)
    result = weerbaar("db", "upgrade", "--config", str(config))
    assert result.returncode == 0, result.stderr
    tables = set(inspect(make_engine(f"sqlite:///{tmp_path}/state/bot.db")).get_table_names())
    assert {"park", "report", "outboxmessage", "reportdraft", "alembic_version"} <= tables


def test_invite_prints_a_code_and_a_deep_link(tmp_path):
    config = write_config(tmp_path)
    result = weerbaar("invite", "--park", "spaanse-polder", "--role", "police", "--config", str(config))
    assert result.returncode == 0, result.stderr
    code = next(line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("Code: "))
    assert f"https://t.me/weerbaar_test_bot?start={code}" in result.stdout
    assert code not in (tmp_path / "state" / "bot.db").read_bytes().decode("latin-1")


def test_invite_for_an_unknown_role_or_park_explains_itself(tmp_path):
    config = write_config(tmp_path)
    result = weerbaar("invite", "--park", "spaanse-polder", "--role", "sheriff", "--config", str(config))
    assert result.returncode == 2 and "unknown role 'sheriff'" in result.stderr
    result = weerbaar("invite", "--park", "nergens", "--role", "police", "--config", str(config))
    assert result.returncode == 2 and "unknown park 'nergens'" in result.stderr


def test_a_placeholder_token_stops_the_bot_with_the_key_named(tmp_path):
    config = write_config(tmp_path)
    result = weerbaar("run", "--config", str(config), env={"WEERBAAR_TELEGRAM_TOKEN": "CHANGE-ME"})
    assert result.returncode == 2
    assert "telegram.token_env (WEERBAAR_TELEGRAM_TOKEN)" in result.stderr


async def test_run_answers_a_user_and_stops_cleanly_on_sigterm(tmp_path, server):
    config = write_config(tmp_path, telegram=f'base_url = "{server.base_url}"\nbase_file_url = "{server.base_file_url}"')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config),
        env={**os.environ, "WEERBAAR_TELEGRAM_TOKEN": TEST_TOKEN}, stderr=asyncio.subprocess.PIPE)
    try:
        user = server.add_user("Erik", language_code="nl")
        user.start()
        welcome = await server.next_message(user.private, timeout=30)
        assert "Welkom bij Weerbaar" in welcome.text
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        except TimeoutError:
            process.kill()
            _, stderr = await process.communicate()
            raise AssertionError(f"no clean stop within 30 s:\n{stderr.decode()[-4000:]}") from None
    assert process.returncode == 0, stderr.decode()
    assert TEST_TOKEN not in stderr.decode()


def test_invite_before_the_first_start_on_matrix_only_prints_the_matrix_way_in(tmp_path):
    text = EXAMPLE.read_text().replace('url = "sqlite:///data/weerbaar.db"', 'url = "sqlite:///state/bot.db"')
    text = text.replace('[telegram]\n', '[unused_telegram]\n').replace("# [matrix]\n", "[matrix]\n")
    for key in ("homeserver", "user_id", "state_dir"):
        text = text.replace(f"# {key} = ", f"{key} = ")
    config = tmp_path / "config.toml"
    config.write_text(text)
    environment = {key: value for key, value in os.environ.items() if not key.startswith("WEERBAAR_")}
    result = subprocess.run([sys.executable, "-m", "bot", "invite", "--park", "spaanse-polder", "--role", "admin",
                             "--config", str(config)], capture_output=True, text=True, env=environment, timeout=60)
    assert result.returncode == 0, result.stderr
    code = next(line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("Code: "))
    assert f"Matrix: open a direct chat with @weerbaar:example.org and send '!start {code}'" in result.stdout
    assert "Telegram" not in result.stdout
    run = subprocess.run([sys.executable, "-m", "bot", "run", "--config", str(config)], capture_output=True,
                         text=True, env=environment, timeout=60)
    assert run.returncode == 2 and "matrix.password_env" in run.stderr      # running does need the secrets


def test_invite_hints_name_every_configured_platform():
    from bot.cli import invite_hints
    from tests.harness import bot_config

    class Server:
        base_url, base_file_url, token = "http://127.0.0.1:1/bot", "http://127.0.0.1:1/file/bot", TEST_TOKEN

    both = bot_config(Server(), matrix={"homeserver": "https://m.example.org", "user_id": "@weerbaar:example.org",
                                        "state_dir": "/tmp/unused-state"}, matrix_env={"WEERBAAR_MATRIX_PASSWORD": "pw"})
    hints = invite_hints(both, "ABC123")
    assert hints[0].startswith("Telegram: send the bot '/start ABC123'")
    assert hints[1] == "Matrix: open a direct chat with @weerbaar:example.org and send '!start ABC123'"


def test_scan_results_print_csv_and_an_unknown_park_is_named(tmp_path):
    """``weerbaar scan-results`` (issue 12): the CSV of a park's closed scans, k-anonymous (none yet: the header)."""
    config = write_config(tmp_path)
    result = weerbaar("scan-results", "--park", "spaanse-polder", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "scan,closed_at,respondents,question,value,count"
    unknown = weerbaar("scan-results", "--park", "atlantis", "--config", str(config))
    assert unknown.returncode == 2 and "unknown park 'atlantis'" in unknown.stderr
