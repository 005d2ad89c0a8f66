"""A fake Telegram Bot API server for end-to-end tests through python-telegram-bot's HTTP stack."""

from .entities import EntityParseError, parse_html
from .limits import ApiError, DeepLink, ManualClock
from .methods import AnsweredCallback
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
