"""How reports, categories and roles read in a message."""

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_timedelta
from babel.numbers import format_decimal

from handlers.i18n import Markup, Translator, escape
from storage.models import Category, Park, Person, Report


def report_number(park: Park, report: Report) -> str:
    return f"{park.prefix}-{report.number:04d}"


def category_name(category: Category, language: str) -> str:
    return category.name_en if language == "en" else category.name_nl


def role_label(texts: Translator, language: str, role: str) -> str:
    key = f"role.{role}"
    return texts(language, key) if texts.has(key) else role.replace("_", " ")


def person_label(person: Person) -> str:
    """A person's name as officials see it (only when the reporter chose to be named)."""
    name = person.display_name or "?"
    return f"{name} (@{person.username})" if person.username else name


def mention(services, person: Person) -> Markup:
    """The person's name, as a mention where their platform has one (a pill on Matrix)."""
    port = services.platforms.get(person.platform)
    render = getattr(port, "mention_html", None)
    if render is None:
        return escape(person.display_name)
    return Markup(render(person.external_id, person.display_name))


def age(texts: Translator, language: str, since: datetime, now: datetime) -> Markup:
    """How long ago, as people say it: "3 uur geleden", "2 days ago"."""
    seconds = max((now - since).total_seconds(), 0)
    larger = None
    for unit in _AGE_UNITS:  # babel's own choice of unit and rounding, so equal texts share one formatting
        if seconds / unit >= AGE_THRESHOLD:
            value = max(1, round(seconds / unit))
            # A stand-in age with the same unit and value; the age itself where that would read as the larger unit.
            stand_in = value * unit
            return _age_text(language, seconds if larger and stand_in >= AGE_THRESHOLD * larger else stand_in)
        larger = unit
    return _age_text(language, seconds)


AGE_THRESHOLD = 1.5
_AGE_UNITS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)


@lru_cache(maxsize=4096)
def _age_text(language: str, seconds: float) -> Markup:
    """Formatting is slow (about half a millisecond); a digest or a list shows many ages."""
    return escape(format_timedelta(-timedelta(seconds=seconds), add_direction=True, threshold=AGE_THRESHOLD,
                                   locale=language))


def when_line(texts: Translator, language: str, when_kind: str, when_text: str | None) -> Markup:
    label = texts(language, f"when.{when_kind}")
    return Markup(f"{label}: {escape(when_text)}") if when_text else label


def where_line(texts: Translator, language: str, where_text: str | None, lat, lon) -> Markup:
    parts = []
    if where_text:
        parts.append(escape(where_text))
    if lat is not None and lon is not None:
        parts.append(texts(language, "report.location_shared", lat=f"{lat:.5f}", lon=f"{lon:.5f}"))
    return Markup(" · ".join(parts))


def report_details(texts: Translator, language: str, *, category: Category, where_text, lat, lon,
                   when_kind: str, when_text, what: str, photo_count: int, anonymous: bool,
                   urgent: bool, reporter: Person | None = None,
                   photo_captions: list[str | None] | None = None) -> Markup:
    """The fields of a report (draft or sent), one per line."""
    t = lambda key, **values: texts(language, key, **values)  # noqa: E731
    lines = [
        t("field.category", value=category_name(category, language)),
        t("field.where", value=where_line(texts, language, where_text, lat, lon)),
        t("field.when", value=when_line(texts, language, when_kind, when_text)),
        t("field.what", value=what),
        t("field.photos", value=photo_count),
    ]
    lines.extend(t("field.photo_caption", index=index, caption=caption)
                 for index, caption in enumerate(photo_captions or [], start=1) if caption)
    if anonymous:
        lines.append(t("field.contact", value=t("contact.anonymous")))
    elif reporter is not None:
        lines.append(t("field.contact", value=t("contact.named_as", name=person_label(reporter))))
    else:
        lines.append(t("field.contact", value=t("contact.named")))
    lines.append(t("field.urgent", value=t("yes") if urgent else t("no")))
    return Markup("\n".join(lines))


#: Date and time as people read them: Dutch ``3 dec. 2026 06:29``, English (en-GB, so a Dutch reader
#: never mistakes 12/3 for 12 March) ``3 Dec 2026, 06:29``.
DATE_TIME_PATTERNS = {"nl": ("nl_NL", "d MMM y HH:mm"), "en": ("en_GB", "d MMM y, HH:mm")}


def local_moment(park: Park, moment: datetime) -> datetime:
    """A stored (naive UTC) moment in the park's time zone."""
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(park.timezone))


def local_time(park: Park, moment: datetime, language: str) -> str:
    """A stored (naive UTC) moment as the park's local date and time, in the reader's language."""
    locale, pattern = DATE_TIME_PATTERNS.get(language, DATE_TIME_PATTERNS["nl"])
    return format_datetime(local_moment(park, moment), format=pattern, locale=locale)


def number(value: float, language: str, digits: int = 0) -> str:
    """A number as the reader writes it: ``1.234,5`` in Dutch, ``1,234.5`` in English."""
    locale = DATE_TIME_PATTERNS.get(language, DATE_TIME_PATTERNS["nl"])[0]
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=locale)
