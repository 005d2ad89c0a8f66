"""Outbox rows as Matrix message content, and typed answers back into button presses.

The handlers write HTML fragments with only ``<b>``, ``<i>``, ``<code>`` and ``<a>``;
user content is already escaped. Matrix gets a plain ``body`` and a sanitised
``formatted_body`` (``org.matrix.custom.html``): anything outside that small set is
dropped, and ``<a>`` keeps only http(s) links. Choices (the inline buttons on
Telegram) become a numbered list; the person answers with the number or the word.
"""

import html
import re
import unicodedata
from html.parser import HTMLParser
from urllib.parse import unquote

ALLOWED_TAGS = {"b", "strong", "i", "em", "code", "a"}
MATRIX_TO_USER = re.compile(r"^https://matrix\.to/#/(@[^/?#\s]+:[^/?#\s]+)$")
HTML_FORMAT = "org.matrix.custom.html"


class _Sanitiser(HTMLParser):
    """Keeps the allowed tags (and safe hrefs); collects the plain text alongside."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.html: list[str] = []
        self.plain: list[str] = []
        self.mentions: list[str] = []
        self._open: list[str | None] = []
        self._link: tuple[str, int] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._text("\n")
            return
        if tag not in ALLOWED_TAGS:
            self._open.append(None)
            return
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if not re.match(r"^https?://", href):
                self._open.append(None)
                return
            user = MATRIX_TO_USER.match(href)
            if user:
                self.mentions.append(unquote(user.group(1)))
            self.html.append(f'<a href="{html.escape(href, quote=True)}">')
            self._link = (href, len(self.plain))
        else:
            self.html.append(f"<{tag}>")
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "br" or not self._open:
            return
        opened = self._open.pop()
        if opened is None:
            return
        self.html.append(f"</{opened}>")
        if opened == "a" and self._link is not None:
            href, start = self._link
            label = "".join(self.plain[start:])
            if href not in label and not MATRIX_TO_USER.match(href):
                self.plain.append(f" ({href})")
            self._link = None

    def handle_data(self, data: str) -> None:
        self._text(data)

    def _text(self, data: str) -> None:
        self.plain.append(data)
        self.html.append(html.escape(data, quote=False).replace("\n", "<br>"))

    def close(self) -> None:
        super().close()
        while self._open:
            opened = self._open.pop()
            if opened is not None:
                self.html.append(f"</{opened}>")


def render_html(fragment: str) -> tuple[str, str, list[str]]:
    """(plain body, sanitised HTML, Matrix user ids linked as pills) of an HTML fragment."""
    parser = _Sanitiser()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.plain), "".join(parser.html), parser.mentions


def choice_buttons(choices: list) -> list[dict]:
    """The buttons that can be answered, in reading order (URL buttons do not apply)."""
    return [button for row in choices or [] for button in row if button.get("data")]


def message_content(text: str | None, choices: list, hint: str | None = None) -> dict:
    """An ``m.notice`` for an outbox row: text, then the choices as a numbered list."""
    plain, formatted, mentions = render_html(text or "")
    buttons = choice_buttons(choices)
    if buttons:
        plain_lines = [f"{number}. {button['label']}" for number, button in enumerate(buttons, start=1)]
        html_items = "".join(f"<li>{html.escape(button['label'], quote=False)}</li>" for button in buttons)
        plain = "\n\n".join(part for part in (plain, "\n".join(plain_lines)) if part)
        formatted = f"{formatted}<ol>{html_items}</ol>"
        if hint:
            plain += f"\n{hint}"
            formatted += f"<i>{html.escape(hint, quote=False)}</i>"
    content = {"msgtype": "m.notice", "body": plain, "format": HTML_FORMAT, "formatted_body": formatted,
               "m.mentions": {"user_ids": sorted(set(mentions))} if mentions else {}}
    return content


def normalise(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of an answer or a label."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = re.sub(r"[^\w]+", " ", stripped.casefold())
    return " ".join(words.split())


def match_choice(answer: str, choices: list) -> str | None:
    """The ``data`` of the choice answered by number or by (part of) its words, if exactly one fits."""
    buttons = choice_buttons(choices)
    if not buttons:
        return None
    number = re.fullmatch(r"\s*(\d{1,3})\s*[.)]?\s*", answer)
    if number:
        index = int(number.group(1))
        return buttons[index - 1]["data"] if 1 <= index <= len(buttons) else None
    wanted = normalise(answer)
    if len(wanted) < 2:
        return None
    labels = [(normalise(button["label"]), button["data"]) for button in buttons]
    exact = [data for label, data in labels if label == wanted]
    if exact:
        return exact[0] if len(set(exact)) == 1 else None
    padded = f" {wanted} "
    partial = {data for label, data in labels if padded in f" {label} "}
    return partial.pop() if len(partial) == 1 else None


def location_content(latitude: float, longitude: float, text: str | None = None) -> dict:
    geo = f"geo:{latitude:.6f},{longitude:.6f}"
    body = render_html(text)[0] if text else geo
    return {"msgtype": "m.location", "body": body, "geo_uri": geo}


def parse_geo_uri(uri: str) -> tuple[float, float] | None:
    match = re.match(r"^geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)", uri or "")
    if not match:
        return None
    latitude, longitude = float(match.group(1)), float(match.group(2))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return latitude, longitude


def mention_html(user_id: str, display_name: str) -> str:
    """A pill: a matrix.to link to the user, with their name as the label."""
    return f'<a href="https://matrix.to/#/{html.escape(user_id, quote=True)}">{html.escape(display_name or user_id, quote=False)}</a>'
