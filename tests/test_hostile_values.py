"""Every catalog text, filled with hostile values, is valid Telegram HTML and safe Matrix HTML.

A value reaches a message escaped exactly once: the hostile text comes out literally, never as
markup, and never double-escaped (``&amp;amp;``).
"""

import pytest

from bot.matrix_render import message_content
from handlers.i18n import LANGUAGES, Translator, escape, placeholders
from tests.fake_telegram.entities import parse_html

HOSTILE = 'Bakker & Zn <b>"x"</b> \'q\' > <a href="https://evil.example/">Politie</a> &amp;'


def _every_key(texts: Translator):
    return [(language, key) for language in LANGUAGES for key in sorted(texts.catalogs[language])]


def _render(texts: Translator, language: str, key: str, values: dict):
    """A text filled with ``values``; a text with plural forms in its plural form."""
    if isinstance(texts.catalogs[language][key], tuple):
        return texts.plural(language, key, 2, **{name: value for name, value in values.items() if name != "count"})
    return texts(language, key, **values)


@pytest.fixture(scope="module")
def texts() -> Translator:
    return Translator.load()


def test_every_text_with_hostile_values_is_valid_telegram_html_and_shows_them_literally(texts):
    for language, key in _every_key(texts):
        template = texts.catalogs[language][key]
        names = placeholders(template)
        rendered = _render(texts, language, key, {name: HOSTILE for name in names})
        plain, entities = parse_html(rendered)  # strict: a stray & < > would raise here
        if names - {"count"}:
            assert HOSTILE in plain, (language, key, plain)
        assert not any(entity.get("url", "").startswith("https://evil") for entity in entities), (language, key)


def test_every_text_with_hostile_values_renders_safely_on_matrix(texts):
    for language, key in _every_key(texts):
        names = placeholders(texts.catalogs[language][key])
        content = message_content(_render(texts, language, key, {name: HOSTILE for name in names}), [])
        if names - {"count"}:
            assert HOSTILE in content["body"], (language, key, content["body"])
        assert '<a href="https://evil' not in content["formatted_body"], (language, key)


def test_a_value_already_safe_is_not_escaped_again(texts):
    once = escape(HOSTILE)
    assert escape(once) is once
    assert "&amp;amp;" in once and "&amp;amp;amp;" not in texts("nl", "field.what", value=once)
