"""The demo park and its people: a deployment that needs no account of any kind."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import Config, parse_config

DEMO_PARK = "demo-zuidpolder"
DEMO_TIMEZONE = ZoneInfo("Europe/Amsterdam")
BOT_USERNAME = "weerbaar_demo_bot"


@dataclass(frozen=True)
class Persona:
    """Someone the visitor can act as; ``role`` is what the invite verifies (None: no role)."""

    key: str
    first_name: str
    username: str
    role: str | None
    in_group: bool
    emoji: str


PERSONAS = (
    Persona("erik", "Erik", "erik_transport", None, True, "🚚"),
    Persona("fleur", "Fleur", "fleur_bakkerij", None, True, "🥐"),
    Persona("police", "Piet", "piet_wijkagent", "police", False, "👮"),
    Persona("municipality", "Gwen", "gwen_gemeente", "municipality", False, "🏛️"),
    Persona("admin", "Anna", "anna_parkbeheer", "admin", True, "🗂️"),
)

# Short schedules so reminders and escalation show within one simulated working day.
DEMO_PARK_TABLE = {
    "slug": DEMO_PARK, "name": "Bedrijvenpark De Zuidpolder", "prefix": "ZP",
    "timezone": "Europe/Amsterdam", "language": "nl",
    "reminders": {"first_after": "4h", "repeat_every": "2h", "escalate_after": 2,
                  "urgent_first_after": "1h", "urgent_repeat_every": "1h"},
    "working_hours": {"start": "08:00", "end": "18:00", "days": [1, 2, 3, 4, 5]},
    "categories": [
        {"key": "drugs", "name_nl": "Drugs (handel, opslag, afval)", "name_en": "Drugs (dealing, storage, waste)",
         "roles": ["police", "municipality"]},
        {"key": "vastgoed", "name_nl": "Verdachte verhuur of aankoop van panden",
         "name_en": "Suspicious letting or purchase of premises", "roles": ["municipality"]},
        {"key": "intimidatie", "name_nl": "Intimidatie of afpersing", "name_en": "Intimidation or extortion",
         "roles": ["police"]},
        {"key": "overig", "name_nl": "Iets anders verdachts", "name_en": "Something else suspicious",
         "roles": ["police", "municipality"]},
    ],
}


def demo_config(database_url: str, base_url: str, base_file_url: str, token: str) -> Config:
    """The playground's configuration: the demo park, Telegram on the in-process simulator only."""
    if not base_url.startswith("http://127.0.0.1:"):
        raise ValueError("the playground's Telegram is the simulator on loopback, never the real one")
    raw = {
        "database": {"url": database_url},
        "telegram": {"base_url": base_url, "base_file_url": base_file_url},
        "bot": {"draft_idle_timeout": "2h", "sweep_interval": "1h", "log_level": "WARNING"},
        "parks": [DEMO_PARK_TABLE],
    }
    return parse_config(raw, environ={"WEERBAAR_TELEGRAM_TOKEN": token})


def this_weeks_monday_morning(today: date | None = None) -> datetime:
    """Monday 09:00 in Amsterdam of the current week, as naive UTC (the clock's format)."""
    today = today or datetime.now(DEMO_TIMEZONE).date()
    return local_to_utc(today - timedelta(days=today.weekday()), time(9, 0))


def next_monday_morning(now_utc: datetime) -> datetime:
    """The next Monday 09:00 in Amsterdam after ``now_utc`` (naive UTC in and out)."""
    local = now_utc.replace(tzinfo=UTC).astimezone(DEMO_TIMEZONE)
    days_ahead = (7 - local.weekday()) % 7 or 7
    candidate = local_to_utc(local.date() + timedelta(days=days_ahead), time(9, 0))
    this_monday = local_to_utc(local.date(), time(9, 0))
    return this_monday if local.weekday() == 0 and this_monday > now_utc else candidate


def local_to_utc(day: date, wall: time) -> datetime:
    return datetime.combine(day, wall, DEMO_TIMEZONE).astimezone(UTC).replace(tzinfo=None)


def to_local(moment_utc: datetime) -> datetime:
    return moment_utc.replace(tzinfo=UTC).astimezone(DEMO_TIMEZONE)
