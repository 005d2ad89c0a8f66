"""Every user-facing text exists in Dutch and English, with the same placeholders."""

import re
from pathlib import Path

import pytest

from handlers.i18n import LANGUAGES, Markup, Translator, load_catalog, placeholders

ROOT = Path(__file__).parent.parent
# A key as the text argument of a translator call: ctx.t("k"), t_for(person, "k"), texts(language, "k"), ...
KEY_LITERAL = re.compile(r"""\b(?:t|tn|t_for|texts|plural|b|_tell|_refuse)\((?:[^()"']*,\s*)?["']([a-z_]+\.[a-z_0-9.]+)["']""")
DYNAMIC_PREFIXES = ("role.", "when.", "change.", "status.", "feedback.ready.", "close.ready.", "pending.ask_",
                    "report.already_", "command.", "audit.policy.", "audit.category.", "admin.button_")


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


def test_plural_entries_have_every_form_in_both_languages_and_fill_the_count(catalogs):
    plural = {key for key, template in catalogs["nl"].items() if isinstance(template, tuple)}
    assert {"policy.changed", "admin.revoked_official"} <= plural
    for key in plural:
        for language in LANGUAGES:
            forms = catalogs[language][key]
            assert isinstance(forms, tuple) and len(forms) == 2 and all(forms), (language, key)
            assert all("count" in placeholders(form) for form in forms), (language, key)
            assert {name for form in forms for name in placeholders(form)} == placeholders(catalogs["nl"][key])


def test_plural_call_picks_the_form_by_number():
    texts = Translator.load()
    assert texts.plural("nl", "policy.changed", 1) == "Beleid gewijzigd; 1 open melding is opnieuw ingepland."
    assert texts.plural("nl", "policy.changed", 0) == "Beleid gewijzigd; 0 open meldingen zijn opnieuw ingepland."
    assert texts.plural("en", "policy.changed", 2) == "Policy changed; 2 open reports were rescheduled."
    with pytest.raises(TypeError):
        texts("nl", "policy.changed", count=1)


def test_dates_read_by_locale_in_the_park_time_zone():
    from datetime import datetime

    from handlers.rendering import local_time, number
    from storage.models import Park

    park = Park(slug="x", name="x", prefix="X", timezone="Europe/Amsterdam")
    moment = datetime(2026, 12, 3, 5, 29)  # stored as UTC
    assert local_time(park, moment, "nl") == "3 dec 2026 06:29"
    assert local_time(park, moment, "en") == "3 Dec 2026, 06:29"
    park.timezone = "America/New_York"
    assert local_time(park, moment, "en") == "3 Dec 2026, 00:29"
    assert (number(1234.5, "nl", 1), number(1234.5, "en", 1)) == ("1.234,5", "1,234.5")


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
