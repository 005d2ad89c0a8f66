"""A Bot API simulator: a fake Telegram server for python-telegram-bot's real HTTP stack.

The test suite (as ``tests.fake_telegram``) and the playground run the real Telegram
adapter against it.

    server = FakeTelegram(bot_username="weerbaar_test_bot", clock=clock)
    await server.start()          # Bot(server.token, base_url=server.base_url,
                                  #     base_file_url=server.base_file_url)
    alice = server.add_user("Alice", username="alice")
    group = server.add_group("Spaanse Polder", members=[alice])
    alice.send(group, "/melden")  # queues the Update the bot would get
    reply = await server.next_message(alice.private)
    alice.press(reply, reply.button("Drugs")["callback_data"])

It enforces Telegram's limits (lengths, HTML, keyboards, 403s, flood control, group
privacy mode, migration) with the real error descriptions, so python-telegram-bot raises
its real exceptions. server.py has the test-facing API, world.py the users' actions.
"""

from .entities import EntityParseError, parse_html
from .limits import ApiError, DeepLink, ManualClock
from .chats import AnsweredCallback
from .recorded import RecordedMessage
from .server import ApiFailure, ApiRequest, FakeTelegram
from .world import BOT_ID, FakeChat, FakeUser

__all__ = [
    "BOT_ID",
    "AnsweredCallback",
    "ApiError",
    "ApiFailure",
    "ApiRequest",
    "DeepLink",
    "EntityParseError",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "ManualClock",
    "RecordedMessage",
    "parse_html",
]
