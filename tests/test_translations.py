"""Every user-facing text exists in Dutch and English, with the same placeholders."""

import re
from pathlib import Path

import pytest

from handlers.i18n import LANGUAGES, Markup, Translator, load_catalog, placeholders

ROOT = Path(__file__).parent.parent
# A key as the text argument of a translator call: ctx.t("k"), t_for(person, "k"), texts(language, "k"), ...
KEY_LITERAL = re.compile(r"""\b(?:t|t_for|texts|b|_tell|_refuse)\((?:[^()"']*,\s*)?["']([a-z_]+\.[a-z_0-9.]+)["']""")
DYNAMIC_PREFIXES = ("role.", "when.", "change.", "status.", "feedback.ready.", "close.ready.", "pending.ask_",
                    "report.already_")


def keys_used_in_code() -> set[str]:
    return {key for folder in ("handlers", "bot") for path in (ROOT / folder).rglob("*.py")
            for key in KEY_LITERAL.findall(path.read_text())}


@pytest.fixture(scope="module")
def catalogs():
    return {language: load_catalog(language) for language in LANGUAGES}


def test_both_languages_have_exactly_the_same_keys(catalogs):
    assert set(catalogs["nl"]) == set(catalogs["en"])


def test_every_key_used_in_code_is_translated(catalogs):
    namespaces = {key.split(".")[0] for key in catalogs["nl"]}
    used = {key for key in keys_used_in_code() if key.split(".")[0] in namespaces}
    assert len(used) > 100, sorted(used)
    assert used - set(catalogs["nl"]) == set()


def test_placeholders_match_between_languages(catalogs):
    for key, dutch in catalogs["nl"].items():
        assert placeholders(dutch) == placeholders(catalogs["en"][key]), key


@pytest.mark.parametrize("prefix", DYNAMIC_PREFIXES)
def test_dynamic_key_families_exist_in_both_languages(catalogs, prefix):
    assert [key for key in catalogs["nl"] if key.startswith(prefix)]


def test_values_are_escaped_and_markup_is_not():
    texts = Translator.load()
    assert texts("en", "report.sent", number="<SP>", roles="a & b") == (
        "✅ Your report <b>&lt;SP&gt;</b> was sent to: a &amp; b. You will hear here what happens with it. "
        "/myreports shows its status.")
    assert "<b>bold</b>" in texts("nl", "field.what", value=Markup("<b>bold</b>"))


def test_language_follows_the_platform_code_with_dutch_as_default():
    texts = Translator.load()
    assert [texts.language_for(code) for code in ("en-GB", "nl", "nl_BE", "de", None)] == ["en", "nl", "nl", "nl", "nl"]


def test_compiled_catalogs_say_the_same_as_their_sources(tmp_path):
    import shutil

    from handlers.compile_catalogs import compile_catalogs
    from handlers.i18n import LOCALE_DIR

    copy = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    from_sources = {language: load_catalog(language, copy) for language in LANGUAGES}
    assert len(compile_catalogs(copy)) >= 2 * 3
    assert all(list((copy / language / "LC_MESSAGES").glob("*.mo")) for language in LANGUAGES)
    assert {language: load_catalog(language, copy) for language in LANGUAGES} == from_sources
