"""Compile the gettext catalogs (``.po`` → ``.mo``); run by the build: ``python -m handlers.compile_catalogs``."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from handlers.i18n import LANGUAGES, LOCALE_DIR


def compile_catalogs(locale_dir: Path = LOCALE_DIR) -> list[str]:
    written = []
    for language in LANGUAGES:
        for source in sorted((locale_dir / language / "LC_MESSAGES").glob("*.po")):
            with source.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            with source.with_suffix(".mo").open("wb") as handle:
                write_mo(handle, catalog)
            written.append(str(source.with_suffix(".mo")))
    return written


if __name__ == "__main__":
    print(f"compiled {len(compile_catalogs())} catalogs")
