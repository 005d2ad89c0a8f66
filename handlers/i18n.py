"""The translation layer: keyed gettext catalogs (``locale/<lang>/LC_MESSAGES/*.po``).

Message ids are stable keys (``report.ask_where``); every key exists in Dutch (the
default) and English. Templates are HTML fragments with ``{placeholders}``; every
value filled in is HTML-escaped unless it is ``Markup``, so user text can never break
or inject markup.

Texts per platform: ``texts.on("matrix")`` is the same translator for one platform. There
a key ``name@matrix`` (in a topic catalog) replaces ``name`` -- for texts about buttons and
gestures Matrix does not have -- and every command in a template is written with ``!``
(``/melden`` → ``!melden``): Element treats ``/word`` as its own slash command. Handlers
never need to know: ``Context.t`` picks the translator of the chat's platform.

A key with plural forms (``msgid_plural`` in the catalog) is read with ``Translator.plural``
(``ctx.tn``), which picks the form for a number by the language's plural rule (ngettext).
"""

import gettext
import html
import re
import string
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
#: The platform whose commands start with ``!``; on every other platform they start with ``/``.
BANG_COMMAND_PLATFORM = "matrix"
#: A ``/command`` in a template: not inside a word, a path, a URL or a closing tag.
SLASH_COMMAND = re.compile(r"(?<![\w/:<.])/(?=[a-z][a-z0-9_]*\b)")


class Markup(str):
    """Already-safe HTML; inserted into templates unescaped."""


def escape(value: object) -> Markup:
    return value if isinstance(value, Markup) else Markup(html.escape(str(value), quote=False))


Template = str | tuple[str, ...]  # a plain text, or the plural forms of one


def placeholders(template: Template) -> set[str]:
    """The ``{names}`` a template fills in (for plural forms: in any of them)."""
    forms = template if isinstance(template, tuple) else (template,)
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name}


def load_catalog(language: str, locale_dir: Path = LOCALE_DIR) -> dict[str, Template]:
    """All catalogs of one language (``weerbaar.po`` and topic files beside it), merged.

    A compiled ``.mo`` (made by the build, ``python -m handlers.compile_catalogs``) is read
    when it is at least as new as its ``.po``; otherwise the ``.po`` itself.
    """
    messages: dict[str, Template] = {}
    for path in sorted((locale_dir / language / "LC_MESSAGES").glob("*.po")):
        compiled = path.with_suffix(".mo")
        fresh = compiled.exists() and compiled.stat().st_mtime >= path.stat().st_mtime
        with (compiled if fresh else path).open("rb") as handle:
            catalog = read_mo(handle) if fresh else read_po(handle, locale=language)
        for message in catalog:
            if message.id and message.string:
                key = message.id[0] if isinstance(message.id, (tuple, list)) else message.id
                if key in messages:
                    raise ValueError(f"{path.name}: '{key}' is defined twice for {language}")
                messages[key] = tuple(message.string) if isinstance(message.string, (tuple, list)) else message.string
    return messages


def bang_commands(template: str) -> str:
    """``/melden`` → ``!melden`` in a template (values filled in later are left alone)."""
    return SLASH_COMMAND.sub("!", template)


class Translator:
    def __init__(self, catalogs: dict[str, dict[str, Template]], platform: str | None = None,
                 plural_rules: dict | None = None):
        self.catalogs = catalogs
        self.platform = platform
        self._plural_rules = plural_rules or {
            language: gettext.c2py(get_plural(language).plural_expr) for language in catalogs}
        self._per_platform: dict[str | None, Translator] = {platform: self}

    def on(self, platform: str | None) -> "Translator":
        """This translator for one platform: its variants (``key@platform``) and command prefix.

        Made once per platform and kept: compiling the plural rules took ~10% of a handler's CPU."""
        translator = self._per_platform.get(platform)
        if translator is None:
            translator = Translator(self.catalogs, platform, self._plural_rules)
            self._per_platform[platform] = translator
        return translator

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

    def template(self, language: str, key: str) -> Template:
        """The raw template of a key for this translator's platform (a tuple: its plural forms)."""
        catalog, default = self.catalogs.get(language, {}), self.catalogs[DEFAULT_LANGUAGE]
        template = None
        if self.platform:
            variant = f"{key}@{self.platform}"
            template = catalog.get(variant) or default.get(variant)
        template = template or catalog.get(key) or default[key]
        if self.platform != BANG_COMMAND_PLATFORM:
            return template
        return tuple(map(bang_commands, template)) if isinstance(template, tuple) else bang_commands(template)

    def __call__(self, language: str, key: str, **values: object) -> Markup:
        template = self.template(language, key)
        if isinstance(template, tuple):
            raise TypeError(f"'{key}' has plural forms; use plural()")
        return _fill(template, values)

    def plural(self, language: str, key: str, count: int, **values: object) -> Markup:
        """The form of ``key`` for ``count`` (ngettext); ``{count}`` is filled in too."""
        template = self.template(language, key)
        if not isinstance(template, tuple):
            raise TypeError(f"'{key}' has no plural forms")
        rule = self._plural_rules.get(language) or self._plural_rules[DEFAULT_LANGUAGE]
        form = template[min(rule(count), len(template) - 1)]
        return _fill(form, {"count": count, **values})


def _fill(template: str, values: dict[str, object]) -> Markup:
    return Markup(template.format(**{name: escape(value) for name, value in values.items()}))
