"""What every handler gets: the database, the clock, the texts, the platforms, the settings."""

from dataclasses import dataclass, field
from datetime import timedelta

from handlers.clock import Clock
from handlers.i18n import Translator
from handlers.membership_cache import MembershipCache
from handlers.ports import PlatformPort
from storage.db import Database

DEFAULT_OFFICIAL_ROLES = ("police", "municipality", "park_manager", "fire_brigade")


@dataclass(frozen=True)
class Settings:
    draft_idle_timeout: timedelta = timedelta(hours=24)
    invite_valid_for: timedelta = timedelta(days=7)
    official_roles: tuple[str, ...] = DEFAULT_OFFICIAL_ROLES
    max_photos: int = 10
    outbox_retention: timedelta = timedelta(days=30)


@dataclass
class Services:
    db: Database
    clock: Clock
    texts: Translator
    settings: Settings = field(default_factory=Settings)
    platforms: dict[str, PlatformPort] = field(default_factory=dict)
    membership_cache: MembershipCache = field(default_factory=MembershipCache)
