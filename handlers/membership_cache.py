"""A short memory of the platforms' answers about group membership."""

from collections import OrderedDict
from datetime import datetime, timedelta


class MembershipCache:
    """Recent platform answers to "is this user in that group?", kept for ``ttl``, at most ``size``."""

    def __init__(self, ttl: timedelta = timedelta(minutes=2), size: int = 50_000):
        self.ttl = ttl
        self.size = size
        self._answers: OrderedDict[tuple[str, str, str], tuple[bool, datetime]] = OrderedDict()

    def get(self, key: tuple[str, str, str], now: datetime) -> bool | None:
        found = self._answers.get(key)
        if found is None or found[1] <= now:
            return None
        return found[0]

    def put(self, key: tuple[str, str, str], answer: bool, now: datetime) -> None:
        self._answers[key] = (answer, now + self.ttl)
        self._answers.move_to_end(key)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)
