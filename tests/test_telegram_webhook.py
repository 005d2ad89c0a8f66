"""Telegram webhook mode in one process: setWebhook as documented, the secret checked, 200 only after the inbox."""

import socket

import aiohttp
import pytest
from sqlmodel import Session, select

from bot.config import parse_config
from storage.models import InboxUpdate
from tests.harness import OTHER_PARK, PARK, Harness, park_table

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
    """The real bot in webhook mode on the fake Bot API, which posts to it."""
    port = free_port()
    harness = Harness(server, database, clock)
    harness.config = webhook_config(server, port)
    harness.url = f"http://127.0.0.1:{port}/telegram/hook"
    await harness.start()
    yield harness
    await harness.stop()


def inbox(db) -> list[InboxUpdate]:
    with Session(db.engine) as session:
        return list(session.exec(select(InboxUpdate).order_by(InboxUpdate.id)))


async def test_the_bot_sets_its_webhook_and_answers_what_telegram_posts(hooked, server):
    request = await server.wait_for_request("setWebhook")
    assert request.params["url"] == hooked.url
    assert request.params["secret_token"] == SECRET
    assert request.params["allowed_updates"] == ["message", "callback_query"]  # exactly what the bot handles
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


def test_webhook_mode_needs_a_usable_url_and_secret(server):
    with pytest.raises(ValueError, match="telegram.webhook_url"):
        parse_config({"telegram": {"mode": "webhook", "webhook_url": "http://bot.example.org/hook"},
                      "parks": [park_table(PARK, "P", "SP")]},
                     environ={"WEERBAAR_TELEGRAM_TOKEN": server.token, "WEERBAAR_TELEGRAM_WEBHOOK_SECRET": SECRET})
    with pytest.raises(ValueError, match="WEERBAAR_TELEGRAM_WEBHOOK_SECRET"):
        webhook_config(server, 8443, secret="has spaces and = signs")
    config = webhook_config(server, 8443)
    assert config.telegram.webhook.path == "/telegram/hook" and SECRET not in repr(config.telegram)
