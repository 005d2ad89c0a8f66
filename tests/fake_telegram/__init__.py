"""The fake Bot API of the test suite: the simulator in ``bot.botapi_simulator``, re-exported.

It lives in the bot package so the playground (``weerbaar playground``) can run the real
Telegram adapter against it; the tests keep importing it from here, submodules included
(``tests.fake_telegram.entities`` is ``bot.botapi_simulator.entities``).
"""

import sys

from bot.botapi_simulator import chats, entities, limits, methods, params, recorded, sending, server, world

from bot.botapi_simulator import (
    BOT_ID,
    AnsweredCallback,
    ApiError,
    ApiFailure,
    ApiRequest,
    DeepLink,
    EntityParseError,
    FakeChat,
    FakeTelegram,
    FakeUser,
    ManualClock,
    RecordedMessage,
    parse_html,
)

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

for _submodule in (chats, entities, limits, methods, params, recorded, sending, server, world):
    sys.modules[f"{__name__}.{_submodule.__name__.rsplit('.', 1)[1]}"] = _submodule
