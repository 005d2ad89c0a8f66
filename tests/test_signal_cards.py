"""The "what to look for" cards: one per report category, Dutch and English, safe to send as HTML."""

import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from handlers.i18n import LANGUAGES, LOCALE_DIR, Translator, placeholders

ROOT = Path(__file__).parent.parent
CATEGORY_KEYS = ("drugs", "vastgoed", "intimidatie", "brandgevaar", "afval", "mensenhandel", "witwassen",
                 "voertuigen", "overig")
CARD_KEYS = {f"card.{key}" for key in CATEGORY_KEYS}
EXPECTED_KEYS = CARD_KEYS | {"card.general_intro"}
ALLOWED_TAGS = {"b", "i"}
TITLE = re.compile(r"<b>[^<]+</b>")


def read_cards(language: str) -> dict[str, str]:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "cards.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {message.id: message.string for message in catalog if message.id}


@pytest.fixture(scope="module")
def cards() -> dict[str, dict[str, str]]:
    return {language: read_cards(language) for language in LANGUAGES}


class TagChecker(HTMLParser):
    """Records every tag; fails on anything but balanced <b> and <i> without attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS or attrs:
            self.problems.append(f"tag <{tag}> {attrs}")
        self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")

    def handle_entityref(self, name):
        self.problems.append(f"entity &{name};")

    def handle_charref(self, name):
        self.problems.append(f"character reference &#{name};")


def markup_problems(text: str) -> list[str]:
    checker = TagChecker()
    checker.feed(text)
    checker.close()
    problems = checker.problems + [f"unclosed <{tag}>" for tag in checker.open]
    bare = re.sub(r"</?[bi]>", "", text)
    problems += [f"stray {char!r}" for char in "<>&" if char in bare]
    return problems


def test_both_languages_have_exactly_the_expected_keys(cards):
    assert set(cards["nl"]) == EXPECTED_KEYS
    assert set(cards["en"]) == EXPECTED_KEYS


def test_every_text_is_filled_in_and_has_no_placeholders(cards):
    for language, texts in cards.items():
        for key, text in texts.items():
            assert text.strip(), (language, key)
            assert "{" not in text and "}" not in text and not placeholders(text), (language, key)


def test_only_bold_and_italic_markup(cards):
    for language, texts in cards.items():
        for key, text in texts.items():
            assert markup_problems(text) == [], (language, key)


def test_markup_check_catches_what_telegram_would_reject():
    assert markup_problems("<b>ok</b> <i>fine</i>") == []
    assert markup_problems("a & b")
    assert markup_problems("<u>no</u>")
    assert markup_problems("<b>open")
    assert markup_problems("x > y")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", sorted(CARD_KEYS))
def test_card_shape(cards, language, key):
    text = cards[language][key]
    lines = text.split("\n")
    assert len(text) < 700
    assert TITLE.fullmatch(lines[0]), lines[0]
    bullets = [line for line in lines[1:] if line.startswith("• ")]
    assert 4 <= len(bullets) <= 6
    assert bullets == lines[1:], "every line after the title is a bullet"


def test_intro_is_short_plain_text(cards):
    for language in LANGUAGES:
        intro = cards[language]["card.general_intro"]
        assert len(intro) < 400 and "\n" not in intro and "•" not in intro


def test_acute_danger_numbers_are_given_once_in_the_general_card(cards):
    for language, texts in cards.items():
        assert [key for key, text in texts.items() if "112" in text] == ["card.overig"], language
        assert "0800-7000" in texts["card.overig"]


def test_every_category_of_the_example_config_has_a_card(cards):
    config = tomllib.loads((ROOT / "config.example.toml").read_text())
    keys = {category["key"] for park in config["parks"] for category in park["categories"]}
    assert {f"card.{key}" for key in keys} <= set(cards["nl"])


def test_cards_render_through_the_translator():
    texts = Translator.load()
    for language in LANGUAGES:
        for key in EXPECTED_KEYS:
            assert texts.has(key)
        rendered = texts(language, "card.drugs")
        assert rendered == read_cards(language)["card.drugs"]
        assert rendered.startswith("<b>") and markup_problems(rendered) == []
    assert texts("nl", "card.drugs") != texts("en", "card.drugs")
