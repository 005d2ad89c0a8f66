"""Telegram's HTML parse mode and the automatic bot_command entities, as the Bot API does them.

The parser follows TDLib's ``parse_html`` (same tag set, same error texts) and is
stricter in one place on purpose: a bare ``&`` or ``>`` that is not part of a tag or
a character reference is rejected, so a bot that forgets to escape user input fails
here instead of in production. Entity offsets and lengths are in UTF-16 code units.
"""

import re
from dataclasses import dataclass

SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del",
        "span", "tg-spoiler", "code", "pre", "blockquote", "tg-emoji",
    }
)
_SIMPLE_TYPES = {
    "b": "bold", "strong": "bold",
    "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "span": "spoiler", "tg-spoiler": "spoiler",
}
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_REFERENCE = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_UNQUOTED_VALUE = re.compile(r"[A-Za-z0-9.\-]*")
_BOT_COMMAND = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")


class EntityParseError(ValueError):
    """HTML that the Bot API refuses; str() is TDLib's reason, e.g. 'Unsupported start tag ...'."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    name: str
    argument: str | None
    offset: int


def parse_html(source: str, *, strict: bool = True) -> tuple[str, list[dict]]:
    """Returns (plain text, entities) for ``parse_mode=HTML``; raises EntityParseError."""
    parser = _HtmlParser(source, strict)
    return parser.run()


class _HtmlParser:
    def __init__(self, source: str, strict: bool) -> None:
        self.src = source
        self.strict = strict
        self.i = 0
        self.pieces: list[str] = []
        self.pos16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict] = []

    def byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode("utf-8"))

    def fail(self, message: str) -> EntityParseError:
        return EntityParseError(message)

    def emit(self, text: str) -> None:
        self.pieces.append(text)
        self.pos16 += utf16_len(text)

    def run(self) -> tuple[str, list[dict]]:
        src, n = self.src, len(self.src)
        while self.i < n:
            char = src[self.i]
            if char == "&":
                self.reference()
            elif char == ">":
                if self.strict:
                    raise self.fail(
                        f'Unescaped ">" at byte offset {self.byte_offset(self.i)}; use "&gt;"'
                    )
                self.emit(char)
                self.i += 1
            elif char == "<":
                if self.i + 1 < n and src[self.i + 1] == "/":
                    self.end_tag()
                else:
                    self.start_tag()
            else:
                self.emit(char)
                self.i += 1
        if self.stack:
            raise self.fail(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        return "".join(self.pieces), self.entities

    def reference(self) -> None:
        decoded, end = decode_reference(self.src, self.i)
        if decoded is None:
            if self.strict:
                raise self.fail(
                    f'Unescaped "&" at byte offset {self.byte_offset(self.i)}; use "&amp;"'
                )
            decoded, end = "&", self.i + 1
        self.emit(decoded)
        self.i = end

    def end_tag(self) -> None:
        src, n = self.src, len(self.src)
        begin = self.i
        self.i += 2
        name_start = self.i
        while self.i < n and not src[self.i].isspace() and src[self.i] != ">":
            self.i += 1
        name = src[name_start : self.i].lower()
        while self.i < n and src[self.i].isspace():
            self.i += 1
        if self.i >= n or src[self.i] != ">":
            raise self.fail(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        if not self.stack:
            raise self.fail(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        open_tag = self.stack.pop()
        if name and name != open_tag.name:
            raise self.fail(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{open_tag.name}>", found "</{name}>"'
            )
        self.i += 1
        self.close(open_tag)

    def start_tag(self) -> None:
        src, n = self.src, len(self.src)
        begin = self.i
        self.i += 1
        while self.i < n and not src[self.i].isspace() and src[self.i] != ">":
            self.i += 1
        if self.i >= n:
            raise self.fail(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        name = src[begin + 1 : self.i].lower()
        if name not in SUPPORTED_TAGS:
            raise self.fail(
                f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}'
            )
        attributes = self.attributes(name, begin)
        self.i += 1  # the '>'
        self.stack.append(_OpenTag(name, self.argument(name, attributes, begin), self.pos16))

    def attributes(self, tag: str, begin: int) -> dict[str, str]:
        src, n = self.src, len(self.src)
        found: dict[str, str] = {}
        unclosed = f'Unclosed start tag "{tag}" at byte offset {self.byte_offset(begin)}'
        while True:
            while self.i < n and src[self.i].isspace():
                self.i += 1
            if self.i >= n:
                raise self.fail(unclosed)
            if src[self.i] == ">":
                return found
            name_start = self.i
            while self.i < n and not src[self.i].isspace() and src[self.i] not in "=>/\"'":
                self.i += 1
            name = src[name_start : self.i].lower()
            if not name:
                raise self.fail(
                    f'Empty attribute name in the tag "{tag}" at byte offset '
                    f"{self.byte_offset(begin)}"
                )
            while self.i < n and src[self.i].isspace():
                self.i += 1
            if self.i >= n:
                raise self.fail(unclosed)
            if src[self.i] != "=":
                found[name] = ""
                continue
            self.i += 1
            while self.i < n and src[self.i].isspace():
                self.i += 1
            if self.i >= n:
                raise self.fail(unclosed)
            found[name] = self.attribute_value(unclosed)

    def attribute_value(self, unclosed: str) -> str:
        src, n = self.src, len(self.src)
        quote = src[self.i]
        if quote not in "\"'":
            match = _UNQUOTED_VALUE.match(src, self.i)
            self.i = match.end()
            if self.i >= n:
                raise self.fail(unclosed)
            if not src[self.i].isspace() and src[self.i] != ">":
                raise self.fail(
                    f"Unexpected end of name token at byte offset {self.byte_offset(self.i)}"
                )
            return match.group().lower()
        self.i += 1
        value: list[str] = []
        while self.i < n and src[self.i] != quote:
            if src[self.i] == "&":
                decoded, end = decode_reference(src, self.i)
                if decoded is not None:
                    value.append(decoded)
                    self.i = end
                    continue
            value.append(src[self.i])
            self.i += 1
        if self.i >= n:
            raise self.fail(unclosed)
        self.i += 1
        return "".join(value)

    def argument(self, tag: str, attributes: dict[str, str], begin: int) -> str | None:
        if tag == "a":
            return attributes.get("href")
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise self.fail(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}'
            )
        if tag == "code":
            css = attributes.get("class", "")
            return css.removeprefix("language-") if css.startswith("language-") else None
        if tag == "tg-emoji":
            return attributes.get("emoji-id")
        if tag == "blockquote" and "expandable" in attributes:
            return "expandable"
        return None

    def close(self, tag: _OpenTag) -> None:
        length = self.pos16 - tag.offset
        if length <= 0:
            return
        entity: dict = {"offset": tag.offset, "length": length}
        if tag.name in _SIMPLE_TYPES:
            entity["type"] = _SIMPLE_TYPES[tag.name]
        elif tag.name == "a":
            if not tag.argument:
                return
            entity.update(type="text_link", url=tag.argument)
        elif tag.name == "code":
            parent = self.stack[-1] if self.stack else None
            if tag.argument and parent is not None and parent.name == "pre":
                parent.argument = parent.argument or tag.argument
                return
            entity["type"] = "code"
        elif tag.name == "pre":
            entity["type"] = "pre"
            if tag.argument:
                entity["language"] = tag.argument
        elif tag.name == "blockquote":
            entity["type"] = "expandable_blockquote" if tag.argument else "blockquote"
        elif tag.name == "tg-emoji":
            if not tag.argument:
                return
            entity.update(type="custom_emoji", custom_emoji_id=tag.argument)
        self.entities.append(entity)


def decode_reference(text: str, index: int) -> tuple[str | None, int]:
    """Decodes '&lt;', '&#65;', '&#x41;' at index; (None, index) when it is no valid reference."""
    match = _REFERENCE.match(text, index)
    if match is None:
        return None, index
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        decoded = _NAMED_REFERENCES.get(name)
        return (decoded, match.end()) if decoded is not None else (None, index)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None, index
    return chr(code), match.end()


def strip_text(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Trims surrounding whitespace as the Bot API does, keeping entity offsets right."""
    stripped = text.strip()
    if stripped == text:
        return text, sorted(entities, key=lambda e: (e["offset"], -e["length"]))
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    end = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        stop = min(entity["offset"] + entity["length"] - lead, end)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    return stripped, sorted(kept, key=lambda e: (e["offset"], -e["length"]))


def bot_command_entities(text: str) -> list[dict]:
    """The bot_command entities Telegram adds to a user's text ('/melden', '/start@bot')."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for m in _BOT_COMMAND.finditer(text)
    ]
