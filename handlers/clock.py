"""Time comes from an injectable clock; tests move it instead of sleeping."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Naive UTC now."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)

    async def sleep(self, seconds: float) -> None:
        """Real time passes (the outbox waits for the pacing); a manual clock has no such method."""
        await asyncio.sleep(seconds)


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime):
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment
