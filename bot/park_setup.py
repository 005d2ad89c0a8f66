"""Seeding the database with the parks of ``config.toml`` at start."""

from sqlmodel import Session, select

from bot.config import Config, ParkConfig
from storage.models import Category, Park


def apply_parks(session: Session, config: Config) -> list[str]:
    """Create the configured parks that the database does not have yet; returns their slugs.

    The file only gives starting values: once a park exists, its admins change it in the
    chat and the database holds the truth, so an existing park is left as it is.
    """
    created = []
    for park_config in config.parks:
        if session.exec(select(Park).where(Park.slug == park_config.slug)).first() is not None:
            continue
        park = Park(slug=park_config.slug)
        _apply_park(park, park_config)
        session.add(park)
        session.flush()
        for position, category_config in enumerate(park_config.categories):
            session.add(Category(park_id=park.id, key=category_config.key, name_nl=category_config.name_nl,
                                 name_en=category_config.name_en, roles=list(category_config.roles),
                                 position=position))
        created.append(park.slug)
    return created


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
