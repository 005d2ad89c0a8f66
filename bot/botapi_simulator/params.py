"""Bot API request parameters from JSON, form or multipart bodies, typed like the real server."""

import json

from .limits import bad_request

JSON_FIELDS = frozenset(
    {"reply_markup", "entities", "caption_entities", "media", "commands", "scope",
     "allowed_updates", "reply_parameters", "link_preview_options"}
)
INTEGER_FIELDS = frozenset(
    {"chat_id", "message_id", "user_id", "offset", "limit", "timeout", "reply_to_message_id",
     "message_thread_id", "cache_time", "from_chat_id", "max_connections"}
)
BOOLEAN_FIELDS = frozenset(
    {"show_alert", "disable_notification", "protect_content", "drop_pending_updates",
     "allow_sending_without_reply", "disable_web_page_preview", "has_spoiler"}
)
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")


def _normalize(key: str, value):
    if not isinstance(value, str):
        return value
    if key in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if key in INTEGER_FIELDS and value.strip().lstrip("-").isdigit():
        return int(value)
    if key in BOOLEAN_FIELDS and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    return value


class Params:
    """One request's parameters; getters raise the Bot API's 400 answers."""

    def __init__(self, values: dict, files: dict[str, tuple[str, bytes]]) -> None:
        self.values = {key: _normalize(key, value) for key, value in values.items()}
        self.files = files

    def logged(self) -> dict:
        """The parameters as the request log shows them (uploads summarised)."""
        logged = dict(self.values)
        for name, (filename, content) in self.files.items():
            logged[name] = f"<upload {filename} {len(content)} bytes>"
        return logged

    def has(self, name: str) -> bool:
        return self.values.get(name) is not None

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, (dict, list)):
            raise bad_request(f'field "{name}" must be of type String')
        return str(value)

    def integer(self, name: str, default: int | None = None, *, missing: str | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if missing is not None:
                raise bad_request(missing)
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request(f'field "{name}" must be a valid Number')
        return value

    def number(self, name: str) -> float:
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f'parameter "{name}" is required')
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be a valid Number') from None

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        raise bad_request(f'field "{name}" must be of type Boolean')

    def structure(self, name: str, error: str):
        """A JSON-valued parameter (object or array), None when absent."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            raise bad_request(error)
        return value

    def upload(self, reference) -> tuple[str, bytes] | None:
        """The uploaded file a parameter or an 'attach://name' reference points at."""
        if isinstance(reference, str) and reference.startswith("attach://"):
            return self.files.get(reference.removeprefix("attach://"))
        return None
