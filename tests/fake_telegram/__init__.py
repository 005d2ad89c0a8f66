"""The fake Bot API of the test suite: the simulator in ``bot.botapi_simulator``, re-exported.

It lives in the bot package so the playground (``weerbaar playground``) can run the real
Telegram adapter against it; the tests keep importing it from here.
"""

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
