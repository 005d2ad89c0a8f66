"""The Bot API's limits and error answers: text lengths, keyboards, commands, flood control."""

import math
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from .entities import EntityParseError, parse_html, strip_text

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_INLINE_BUTTONS = 100
MAX_COMMANDS = 100
MAX_COMMAND_LENGTH = 32
MAX_COMMAND_DESCRIPTION_LENGTH = 256
MAX_ALBUM_SIZE = 10
# Uploads (multipart/form-data): a photo at most 10 MB, width + height at most 10000, ratio at
# most 20; any other file at most 50 MB (the server answers 413 above that).
MAX_PHOTO_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PHOTO_DIMENSIONS_SUM = 10000
MAX_PHOTO_RATIO = 20
MAX_FILE_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_FILE_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile serves bots files up to 20 MB
PRIVATE_CHAT_INTERVAL = 1.0
GROUP_WINDOW, GROUP_MAX = 60.0, 20
GLOBAL_WINDOW, GLOBAL_MAX = 1.0, 30

_COMMAND = re.compile(r"[a-z0-9_]+")
_LANGUAGE = re.compile(r"[a-z]{2}")
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BUTTON_ACTIONS = (
    "url", "callback_data", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
    "callback_game", "pay", "web_app", "copy_text",
)
_SCOPES_WITH_CHAT = {"chat", "chat_administrators", "chat_member"}
_SCOPES = {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}
_TELEGRAM_HOSTS = {"t.me", "telegram.me", "telegram.dog"}
TEXT_LINK = re.compile(r"(?:https?://)?(?:t\.me|telegram\.me|telegram\.dog)/[A-Za-z0-9_]+(?:\?\S*)?",
                       re.IGNORECASE)


class ApiError(Exception):
    """An unsuccessful Bot API answer: HTTP status = error_code, like the real server."""

    def __init__(self, error_code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def envelope(self) -> dict:
        body = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str, parameters: dict | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}", parameters)


def check_photo_upload(content: bytes) -> None:
    """An uploaded photo must be an image (JPEG or PNG here) within the size and shape limits."""
    if len(content) > MAX_PHOTO_UPLOAD_BYTES:
        raise bad_request("PHOTO_SAVE_FILE_INVALID")
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
        if (not width or not height or width + height > MAX_PHOTO_DIMENSIONS_SUM
                or max(width, height) / min(width, height) > MAX_PHOTO_RATIO):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
    elif not content.startswith(b"\xff\xd8"):
        raise bad_request("IMAGE_PROCESS_FAILED")


def check_file_upload(content: bytes) -> None:
    if len(content) > MAX_FILE_UPLOAD_BYTES:
        raise ApiError(413, "Request Entity Too Large")


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def formatted_text(
    raw: str | None, parse_mode: str | None, entities: list | None, *, caption: bool = False
) -> tuple[str, list[dict]]:
    """Parses text or a caption like the Bot API; returns (text, entities) after parsing."""
    raw = "" if raw is None else str(raw)
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            text, found = parse_html(raw)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    elif mode in ("markdown", "markdownv2"):
        raise bad_request("fake Telegram implements parse_mode HTML only; use HTML")
    elif mode:
        raise bad_request("unsupported parse_mode")
    else:
        text, found = raw, [dict(e) for e in (entities or []) if isinstance(e, dict)]
    text, found = strip_text(text, found)
    if caption:
        if len(text) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
    elif not text:
        raise bad_request("message text is empty")
    elif len(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return text, found


def validate_reply_markup(markup) -> dict | None:
    """Checks an InlineKeyboardMarkup (or a reply keyboard) as the Bot API would."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
            raise bad_request("reply markup is too long")
        for row in rows:
            for button in row:
                _validate_inline_button(button)
        return markup
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
        for row in rows:
            for button in row:
                text = button.get("text") if isinstance(button, dict) else button
                if not isinstance(text, str) or not text:
                    raise bad_request("keyboard button text must be non-empty")
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _validate_inline_button(button) -> None:
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise bad_request(prefix + "InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise bad_request(prefix + "Can't find field \"text\"")
    if not isinstance(button["text"], str):
        raise bad_request(prefix + 'Field "text" must be of type String')
    actions = [
        name for name in _BUTTON_ACTIONS
        if button.get(name) is not None and not (name == "callback_data" and button[name] == "")
    ]
    if not actions:
        raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(
            prefix + f"exactly one of the optional fields must be used, got {', '.join(actions)}"
        )
    if not button["text"]:
        raise bad_request("inline keyboard button text must be non-empty")
    if "callback_data" in actions:
        data = button["callback_data"]
        if not isinstance(data, str) or len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in actions and not is_button_url(button["url"]):
        raise bad_request("BUTTON_URL_INVALID")


def is_button_url(url) -> bool:
    if not isinstance(url, str) or any(c.isspace() for c in url):
        return False
    parts = urlsplit(url)
    if parts.scheme == "tg":
        return bool(parts.netloc)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "." in parts.hostname


@dataclass(frozen=True)
class DeepLink:
    """A t.me link to the bot found in a sent message; valid says whether its payload is usable."""

    url: str
    payload: str | None
    valid: bool
    chat_id: int
    message_id: int


def parse_bot_link(url: str, bot_username: str) -> tuple[bool, str | None]:
    """(is a private-chat link to this bot, raw start payload or None)."""
    if "://" not in url:
        url = "https://" + url  # 't.me/bot?start=x' as typed in a text
    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True)
    if parts.scheme in ("http", "https") and (parts.hostname or "").lower() in _TELEGRAM_HOSTS:
        username = parts.path.strip("/")
    elif parts.scheme == "tg" and parts.netloc == "resolve":
        username = (query.get("domain") or [""])[0]
    else:
        return False, None
    if username.lower() != bot_username.lower() or "startgroup" in query:
        return False, None
    payload = query.get("start")
    return True, payload[0] if payload else None


def is_valid_payload(payload: str | None) -> bool:
    return payload is not None and _PAYLOAD.fullmatch(payload) is not None


def validate_commands(commands) -> list[dict]:
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    cleaned = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand: BotCommand must be an Object")
        command = str(item.get("command", "")).strip()
        description = str(item.get("description", "")).strip()
        if not command:
            raise bad_request("command must be non-empty")
        if len(command) > MAX_COMMAND_LENGTH:
            raise bad_request(f"command length must not exceed {MAX_COMMAND_LENGTH}")
        if not _COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not description:
            raise bad_request("command description must be non-empty")
        if len(description) > MAX_COMMAND_DESCRIPTION_LENGTH:
            raise bad_request(
                f"command description length must not exceed {MAX_COMMAND_DESCRIPTION_LENGTH}"
            )
        cleaned.append({"command": command, "description": description})
    return cleaned


def validate_scope(scope) -> dict:
    """Returns the scope as a dict (default scope when absent); chat ids are checked by the caller."""
    if scope is None:
        return {"type": "default"}
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = scope["type"]
    if kind in _SCOPES:
        return {"type": kind}
    if kind not in _SCOPES_WITH_CHAT:
        raise bad_request(f'can\'t parse BotCommandScope: unsupported type "{kind}"')
    if "chat_id" not in scope:
        raise bad_request("can't parse BotCommandScope: chat_id is empty")
    if kind == "chat_member" and not isinstance(scope.get("user_id"), int):
        raise bad_request("can't parse BotCommandScope: user_id is empty")
    return dict(scope)


def validate_language_code(code) -> str:
    code = "" if code is None else str(code)
    if code and not _LANGUAGE.fullmatch(code):
        raise bad_request("invalid language code specified")
    return code


class RateLimiter:
    """Flood control: 1 msg/s per private chat, 20/min per group, 30/s overall."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._private: dict[int, float] = {}
        self._groups: dict[int, deque[float]] = {}
        self._overall: deque[float] = deque()

    def check(self, chat_id: int, private: bool, count: int = 1) -> None:
        """Raises the 429 the Bot API gives when sending count messages now would flood."""
        now = self.clock()
        waits = [_window_wait(self._overall, now, GLOBAL_WINDOW, GLOBAL_MAX, count)]
        if private:
            last = self._private.get(chat_id)
            if last is not None and now - last < PRIVATE_CHAT_INTERVAL:
                waits.append(last + PRIVATE_CHAT_INTERVAL - now)
        else:
            window = self._groups.setdefault(chat_id, deque())
            waits.append(_window_wait(window, now, GROUP_WINDOW, GROUP_MAX, count))
        wait = max(waits)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))

    def record(self, chat_id: int, private: bool, count: int = 1) -> None:
        now = self.clock()
        self._overall.extend([now] * count)
        if private:
            self._private[chat_id] = now
        else:
            self._groups.setdefault(chat_id, deque()).extend([now] * count)


def _window_wait(times: deque[float], now: float, window: float, limit: int, count: int) -> float:
    while times and times[0] <= now - window:
        times.popleft()
    excess = len(times) + count - limit
    if excess <= 0:
        return 0.0
    if count > limit:
        return window
    return times[excess - 1] + window - now


class ManualClock:
    """A monotonic clock that only moves when told to: clock.advance(seconds)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.seconds = start

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds
