"""Applying the parks of ``config.toml`` to the database at start."""

from sqlmodel import Session, select

from bot.config import Config, ParkConfig
from storage.models import Category, Park


def apply_parks(session: Session, config: Config) -> None:
    """Create or update each configured park, its reminder policy and its categories.

    Categories missing from the file are disabled, never deleted: old reports keep them.
    """
    for park_config in config.parks:
        park = session.exec(select(Park).where(Park.slug == park_config.slug)).first() or Park(slug=park_config.slug)
        _apply_park(park, park_config)
        session.add(park)
        session.flush()
        existing = {c.key: c for c in session.exec(select(Category).where(Category.park_id == park.id))}
        for position, category_config in enumerate(park_config.categories):
            category = existing.pop(category_config.key, None) or Category(park_id=park.id, key=category_config.key)
            category.name_nl, category.name_en = category_config.name_nl, category_config.name_en
            category.roles, category.position, category.enabled = list(category_config.roles), position, True
            session.add(category)
        for leftover in existing.values():
            leftover.enabled = False
            session.add(leftover)


def _apply_park(park: Park, config: ParkConfig) -> None:
    policy = config.policy
    park.name, park.prefix, park.timezone, park.language = config.name, config.prefix, config.timezone, config.language
    park.first_reminder_after_s = int(policy.first_after.total_seconds())
    park.repeat_every_s = int(policy.repeat_every.total_seconds())
    park.escalate_after = policy.escalate_after
    park.urgent_first_reminder_after_s = int(policy.urgent_first_after.total_seconds())
    park.urgent_repeat_every_s = int(policy.urgent_repeat_every.total_seconds())
    park.urgent_in_working_time = policy.urgent_in_working_time
    park.work_start = policy.work_start.strftime("%H:%M")
    park.work_end = policy.work_end.strftime("%H:%M")
    park.work_days = ",".join(str(day) for day in policy.work_days)
