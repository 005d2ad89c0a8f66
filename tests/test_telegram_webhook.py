"""Telegram webhook mode in one process: setWebhook as documented, the secret checked, 200 only after the inbox."""

import asyncio
import dataclasses
import socket

import aiohttp
import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from bot.config import MonitoringConfig, parse_config
from storage.db import Database, upgrade
from storage.models import InboxUpdate
from tests.databases import POSTGRES_URL
from tests.harness import OTHER_PARK, PARK, Harness, park_table
from tests.test_faults import SwitchableProxy, postgres_schema  # noqa: F401 - the fixture

SECRET = "webhook-secret_0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def webhook_config(server, port: int, secret: str = SECRET):
    raw = {
        "database": {"url": "sqlite:///unused.db"},
        "bot": {"draft_idle_timeout": "2h", "sweep_interval": "1h", "flood_per_minute": 0},
        "telegram": {"base_url": server.base_url, "base_file_url": server.base_file_url, "mode": "webhook",
                     "webhook_url": f"http://127.0.0.1:{port}/telegram/hook", "listen_port": port,
                     "max_connections": 8},
        "parks": [park_table(PARK, "De Spaanse Polder", "SP"), park_table(OTHER_PARK, "Noorderveld", "NV")],
    }
    return parse_config(raw, environ={"WEERBAAR_TELEGRAM_TOKEN": server.token,
                                      "WEERBAAR_TELEGRAM_WEBHOOK_SECRET": secret})


@pytest.fixture
async def hooked(server, database, clock):
    """The real bot in webhook mode on the fake Bot API, which posts to it; metrics on a free port."""
    port = free_port()
    harness = Harness(server, database, clock)
    harness.config = dataclasses.replace(webhook_config(server, port), monitoring=MonitoringConfig(port=0))
    harness.url = f"http://127.0.0.1:{port}/telegram/hook"
    await harness.start()
    yield harness
    await harness.stop()


async def metric(harness, line_start: str) -> float:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{harness.app.health.port}/metrics") as response:
            for line in (await response.text()).splitlines():
                if line.startswith(line_start + " "):
                    return float(line.rsplit(" ", 1)[1])
    return 0.0


def inbox(db) -> list[InboxUpdate]:
    with Session(db.engine) as session:
        return list(session.exec(select(InboxUpdate).order_by(InboxUpdate.id)))


async def test_the_bot_sets_its_webhook_and_answers_what_telegram_posts(hooked, server):
    request = await server.wait_for_request("setWebhook")
    assert request.params["url"] == hooked.url
    assert request.params["secret_token"] == SECRET
    assert request.params["allowed_updates"] == ["message", "edited_message", "callback_query"]  # what the bot handles
    assert request.params["max_connections"] == 8
    alice = server.add_user("Alice")
    alice.start()
    alice.send(alice.private, "hallo")
    await hooked.settle()
    texts = [message.text for message in server.messages(alice.private)]
    assert "Welkom" in texts[0] and "begrijp" in texts[1]
    assert not [r for r in server.requests if r.method.lower() == "getupdates"]  # no polling at all
    rows = inbox(hooked.db)
    assert len(rows) == 2 and all(row.applied_at and row.holder == hooked.app.instance.name for row in rows)
    assert server.webhooks.current.delivered == 2 and server.webhooks.current.failed_posts == 0
    assert await metric(hooked, 'weerbaar_telegram_webhook_requests_total{result="stored"}') == 2


async def test_a_request_without_the_right_secret_gets_403_and_changes_nothing(hooked, server):
    await server.wait_for_request("setWebhook")
    update = {"update_id": 5, "message": {"message_id": 1, "date": 0, "text": "/start",
                                          "chat": {"id": 77, "type": "private", "first_name": "Mallory"},
                                          "from": {"id": 77, "is_bot": False, "first_name": "Mallory"}}}
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guessed"}):
            async with session.post(hooked.url, json=update, headers=headers) as response:
                assert response.status == 403
        async with session.post(hooked.url, data=b"not json",
                                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
            assert response.status == 400
        async with session.get(hooked.url) as response:
            assert response.status == 405
    assert inbox(hooked.db) == []
    assert server.sent == []
    assert await metric(hooked, 'weerbaar_telegram_webhook_requests_total{result="forbidden"}') == 2
    assert await metric(hooked, 'weerbaar_telegram_webhook_requests_total{result="bad_request"}') == 1


def test_webhook_mode_needs_a_usable_url_and_secret(server):
    with pytest.raises(ValueError, match="telegram.webhook_url"):
        parse_config({"telegram": {"mode": "webhook", "webhook_url": "http://bot.example.org/hook"},
                      "parks": [park_table(PARK, "P", "SP")]},
                     environ={"WEERBAAR_TELEGRAM_TOKEN": server.token, "WEERBAAR_TELEGRAM_WEBHOOK_SECRET": SECRET})
    with pytest.raises(ValueError, match="WEERBAAR_TELEGRAM_WEBHOOK_SECRET"):
        webhook_config(server, 8443, secret="has spaces and = signs")
    config = webhook_config(server, 8443)
    assert config.telegram.webhook.path == "/telegram/hook" and SECRET not in repr(config.telegram)


async def test_while_the_database_is_away_telegram_gets_503_and_sends_the_update_again(server, clock,
                                                                                      postgres_schema):
    server.webhooks.retry_start = 0.1
    proxy = SwitchableProxy(int(POSTGRES_URL.rsplit(":", 1)[1].split("/")[0]))
    proxy_port = await proxy.start()
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{proxy_port}/test", pool_pre_ping=True,
                           connect_args={"options": f"-csearch_path={postgres_schema}"})
    await asyncio.to_thread(upgrade, engine)  # through the proxy, which runs on this loop
    harness = await asyncio.to_thread(Harness, server, Database(engine), clock)
    port = free_port()
    harness.config = webhook_config(server, port)
    await harness.start()
    try:
        alice = server.add_user("Alice")
        alice.start()
        await harness.settle()
        proxy.cut()
        alice.send(alice.private, "hallo")
        await proxy.wait_refused(3)
        async with asyncio.timeout(30):
            while server.webhooks.current.failed_posts < 2:  # answered 503, sent again, 503 again
                await server.world.update_signal.wait(0.5)
        assert server.pending_updates() == 1 and "Welkom" in server.sent[-1].text  # nothing answered yet
        assert "503" in server.webhooks.current.last_error_message
        proxy.up = True
        await harness.settle()
    finally:
        await harness.stop()
        await proxy.close()
    texts = [message.text for message in server.messages(alice.private)]
    assert len(texts) == 2 and "begrijp" in texts[1]  # answered once, after the database came back
    rows = await asyncio.to_thread(inbox, Database(engine))
    assert len(rows) == 2 and all(row.applied_at for row in rows)
    engine.dispose()
