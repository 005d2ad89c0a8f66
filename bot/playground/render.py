"""Bot API messages as a chat app draws them: text with its entities, photos, buttons."""

from datetime import UTC, datetime
from html import escape
from urllib.parse import quote

from bot.playground.demo import DEMO_TIMEZONE

_TAGS = {"bold": "b", "italic": "i", "underline": "u", "strikethrough": "s", "code": "code",
         "pre": "pre", "blockquote": "blockquote", "spoiler": "span class=\"spoiler\""}


def message_html(text: str, entities: list[dict]) -> str:
    """The text with Telegram's entities as HTML; offsets are in UTF-16 code units, as in the Bot API."""
    units = text.encode("utf-16-le")
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    for entity in sorted(entities, key=lambda e: (e["offset"], -e["length"])):
        start, end = entity["offset"], entity["offset"] + entity["length"]
        kind = entity["type"]
        if kind in _TAGS:
            tag = _TAGS[kind]
            opens.setdefault(start, []).append(f"<{tag}>")
            closes.setdefault(end, []).insert(0, f"</{tag.split()[0]}>")
        elif kind in ("text_link", "url"):
            href = entity.get("url") or units[2 * start:2 * end].decode("utf-16-le")
            if href.startswith(("http://", "https://", "tg://")):
                opens.setdefault(start, []).append(
                    f'<a href="{escape(href)}" target="_blank" rel="noopener noreferrer">')
                closes.setdefault(end, []).insert(0, "</a>")
    parts = []
    length = len(units) // 2
    position = 0
    boundaries = sorted(set(opens) | set(closes) | {length})
    for boundary in boundaries:
        if boundary > position:
            parts.append(escape(units[2 * position:2 * boundary].decode("utf-16-le", errors="replace")))
            position = boundary
        parts.extend(closes.get(boundary, []))
        parts.extend(opens.get(boundary, []))
    return "".join(parts)


def time_of(message: dict) -> datetime:
    return datetime.fromtimestamp(message["date"], UTC).astimezone(DEMO_TIMEZONE)


def file_url(file_id: str) -> str:
    return "/file/" + quote(file_id)


def largest_photo(message: dict) -> str | None:
    sizes = message.get("photo") or []
    return sizes[-1]["file_id"] if sizes else None
