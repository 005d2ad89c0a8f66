"""The translation layer: keyed gettext catalogs (``locale/<lang>/LC_MESSAGES/*.po``).

Message ids are stable keys (``report.ask_where``); every key exists in Dutch (the
default) and English. Templates are HTML fragments with ``{placeholders}``; every
value filled in is HTML-escaped unless it is ``Markup``, so user text can never break
or inject markup.
"""

import html
import string
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"


class Markup(str):
    """Already-safe HTML; inserted into templates unescaped."""


def escape(value: object) -> Markup:
    return value if isinstance(value, Markup) else Markup(html.escape(str(value), quote=False))


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def load_catalog(language: str, locale_dir: Path = LOCALE_DIR) -> dict[str, str]:
    """All catalogs of one language (``weerbaar.po`` and topic files beside it), merged.

    A compiled ``.mo`` (made by the build, ``python -m handlers.compile_catalogs``) is read
    when it is at least as new as its ``.po``; otherwise the ``.po`` itself.
    """
    messages: dict[str, str] = {}
    for path in sorted((locale_dir / language / "LC_MESSAGES").glob("*.po")):
        compiled = path.with_suffix(".mo")
        fresh = compiled.exists() and compiled.stat().st_mtime >= path.stat().st_mtime
        with (compiled if fresh else path).open("rb") as handle:
            catalog = read_mo(handle) if fresh else read_po(handle, locale=language)
        for message in catalog:
            if message.id and message.string:
                if message.id in messages:
                    raise ValueError(f"{path.name}: '{message.id}' is defined twice for {language}")
                messages[message.id] = message.string
    return messages


class Translator:
    def __init__(self, catalogs: dict[str, dict[str, str]]):
        self.catalogs = catalogs

    @classmethod
    def load(cls) -> "Translator":
        return cls({language: load_catalog(language) for language in LANGUAGES})

    def language_for(self, preferred: str | None) -> str:
        """Map a platform language code (``nl-BE``, ``en``) onto a supported language."""
        if preferred:
            short = preferred.split("-")[0].split("_")[0].lower()
            if short in self.catalogs:
                return short
        return DEFAULT_LANGUAGE

    def has(self, key: str) -> bool:
        return key in self.catalogs[DEFAULT_LANGUAGE]

    def __call__(self, language: str, key: str, **values: object) -> Markup:
        template = self.catalogs.get(language, {}).get(key) or self.catalogs[DEFAULT_LANGUAGE][key]
        return Markup(template.format(**{name: escape(value) for name, value in values.items()}))
