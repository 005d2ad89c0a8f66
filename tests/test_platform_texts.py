"""Every text reads right on its platform: ``!commands`` and numbered answers on Matrix, ``/commands`` and buttons
on Telegram."""

import re

import pytest

from handlers.i18n import LANGUAGES, Translator, load_catalog, placeholders

SLASH_COMMAND = re.compile(r"(?<![\w/:<.])/[a-z][a-z0-9_]*\b")
BANG_COMMAND = re.compile(r"(?<![\w!])![a-z][a-z0-9_]*\b")
BUTTON_WORDS = re.compile(r"\bknop(pen)?\b|\bbuttons?\b|\bdruk op\b|\bdruk opnieuw\b|\bpress\b|\btap\b", re.I)


@pytest.fixture(scope="module")
def texts():
    return Translator.load()


def rendered(texts: Translator, platform: str | None, language: str, key: str) -> str:
    template = texts.on(platform).template(language, key)
    forms = template if isinstance(template, tuple) else (template,)  # every plural form
    return "\n".join(form.format(**{name: "X" for name in placeholders(form)}) for form in forms)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_telegram_wording_on_matrix_and_no_matrix_commands_on_telegram(texts, language):
    # The playground's page texts describe its simulated Telegram and are never sent on Matrix.
    keys = [key for key in texts.catalogs["nl"] if "@" not in key and not key.startswith("playground.")]
    for key in keys:
        on_matrix = rendered(texts, "matrix", language, key)
        assert not SLASH_COMMAND.search(on_matrix), f"{key} on Matrix names a /command: {on_matrix}"
        assert not BUTTON_WORDS.search(on_matrix), f"{key} on Matrix talks about buttons: {on_matrix}"
        on_telegram = rendered(texts, "telegram", language, key)
        assert not BANG_COMMAND.search(on_telegram), f"{key} on Telegram names a !command: {on_telegram}"


def test_matrix_gets_bang_commands_and_numbered_answers(texts):
    assert "!melden" in texts.on("matrix")("nl", "group.help") and "knop" not in texts.on("matrix")("nl", "group.help")
    assert "/melden" in texts.on("telegram")("nl", "group.help") and "knop" in texts.on("telegram")("nl", "group.help")
    assert texts.on("matrix")("en", "help.welcome").count("!") >= 3
    assert "<code>!feedback SP-0042" in texts.on("matrix")("nl", "command.needs_number")
    assert "</b>" in texts.on("matrix")("nl", "report.sent", number="SP-1", roles="a/b")  # tags survive
    assert "a/b" in texts.on("matrix")("nl", "report.sent", number="SP-1", roles="a/b")  # values are left alone


def test_every_platform_variant_belongs_to_a_key_and_keeps_its_placeholders():
    for language in LANGUAGES:
        catalog = load_catalog(language)
        for key, template in catalog.items():
            if "@" in key:
                base, platform = key.split("@")
                assert platform == "matrix" and base in catalog, key
                assert placeholders(template) == placeholders(catalog[base]), key
