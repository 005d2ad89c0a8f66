"""One shared pacing of the platforms' send limits: sliding windows per scope.

Telegram allows about 30 messages/s overall, 1/s in a private chat and 20/min in a group;
it enforces them as sliding windows (a burst within the window gets 429), so a window is
what we keep: at most ``limit`` sends in any ``seconds``. The dispatcher asks ``grant``
before it claims rows, so rows it may not send yet stay in the outbox untouched. A 429
pauses its scope for ``retry_after``; several 429s in different chats within a second
pause everything (the overall limit was hit). A granted send counts while it is in flight
and then from when the server saw it (``answered``): somewhere between its grant and its
answer, so no later send in its windows can arrive less than a window after it, however
long either travelled (counting from the grant let a slow answer crowd the next sends into
a 429 on a busy machine). ``margin`` widens every window a little.

Counting from the answer alone costs a round trip per window: the answer of one send and
the arrival of the next are together one way back and one way there, which both sends
travel anyway. So an answered send counts from its answer time less ``ROUND_TRIP_CREDIT``
of the smallest round trip among the last ``ROUND_TRIP_SAMPLES`` answers: the server saw
the send no later than its answer less the way back, and the next send reaches it no
sooner than the way there after it leaves, and those two legs together are about the
smallest round trip, the network's floor. A busy machine only makes legs longer (safe);
what is left of the floor (a fifth) plus ``margin`` absorbs the legs' jitter. One hazard:
a burst of work makes every round trip in it long, so a floor taken from a burst alone is
too high and the first quiet legs after it would be counted too short; the credit therefore
waits until the kept answers number ``ROUND_TRIP_MIN_SAMPLES`` and span ``ROUND_TRIP_SPAN``
seconds. What it does not cover: a floor that was more than twice the new one for all the
kept answers and then drops at once (a slow path for a thousand answers, then a fast one):
one send may then arrive early and get a 429, which pauses its chat as any 429 does; then
the floor is the new one. Only answers from the platform are round trips
(``answered(..., round_trip=...)``): a send that failed before it left would make the floor
look too small (safe, but it wastes the credit).

Several instances (webhook mode) share the limits: the overall budget is divided by the
number of running instances (``set_instances``, from their heartbeats), and a chat's window
also counts what the database says was sent to that chat recently or is being sent now by
any instance (``grant(..., elsewhere=...)``, read by the dispatcher), so two instances
never send to one chat faster than Telegram allows. The database knows a send from when it
was marked (after its answer), so the round-trip credit changes nothing across instances.
"""

from bisect import insort
from collections import deque
from dataclasses import dataclass, field

RECENT_429_WINDOW, RECENT_429_CHATS = 1.0, 3
FLYING_POLL = 0.02
ROUND_TRIP_CREDIT = 0.8  # of the smallest recent round trip: an answered send counts from this long before its answer
ROUND_TRIP_SAMPLES, ROUND_TRIP_MIN_SAMPLES, ROUND_TRIP_SPAN = 1000, 64, 3.0


@dataclass
class Window:
    """At most ``limit`` sends in any ``seconds``: answered sends by when the server saw them, plus those in flight."""

    limit: int
    seconds: float
    times: deque = field(default_factory=deque)  # when the server saw the answered sends, sorted
    flying: int = 0  # granted and not answered yet: they count until their answer
    paused_until: float = 0.0

    def available(self, now: float) -> int:
        if now < self.paused_until:
            return 0
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        return max(self.limit - len(self.times) - self.flying, 0)

    def record(self, now: float, count: int) -> None:
        self.flying += count

    def answered(self, seen: float) -> None:
        self.flying = max(self.flying - 1, 0)
        insort(self.times, seen)

    def released(self) -> None:
        """A granted send that was not made after all."""
        self.flying = max(self.flying - 1, 0)

    def ready_at(self, now: float) -> float:
        """When the next send may go (``now`` if one may go now)."""
        if now < self.paused_until:
            return self.paused_until
        if self.available(now) > 0:
            return now
        excess = len(self.times) + self.flying - self.limit
        if excess < len(self.times):
            return self.times[excess] + self.seconds
        return now + FLYING_POLL  # only sends still in flight fill the window: look again soon


@dataclass(frozen=True)
class Limits:
    """Sends per window for a platform; ``None`` means no limit of that kind."""

    overall: tuple[int, float] | None = None
    private_chat: tuple[int, float] | None = None
    group_chat: tuple[int, float] | None = None
    margin: float = 0.0


TELEGRAM_LIMITS = Limits(overall=(30, 1.0), private_chat=(1, 1.0), group_chat=(20, 60.0), margin=0.01)
MATRIX_LIMITS = Limits(overall=(10, 1.0))  # a homeserver's default message limits are of this order
NO_LIMITS = Limits()


class Pacing:
    """The send windows of one platform: overall and per chat."""

    def __init__(self, limits: Limits, is_private=lambda chat_id: not chat_id.startswith("-")):
        self.limits = limits
        self.is_private = is_private
        self.overall = self._window(limits.overall)
        self.chats: dict[str, Window] = {}
        self._recent_429: deque[tuple[float, str]] = deque()
        self._round_trips: deque[float] = deque(maxlen=ROUND_TRIP_SAMPLES)
        self._round_trip_times: deque[float] = deque(maxlen=ROUND_TRIP_SAMPLES)  # when each was answered
        self.instances = 1

    def set_instances(self, count: int) -> None:
        """Several instances share the overall limit: each takes its part of it."""
        self.instances = max(count, 1)
        if self.limits.overall is not None and self.overall is not None:
            self.overall.limit = max(self.limits.overall[0] // self.instances, 1)

    def chat_window_seconds(self, chat_id: str) -> float | None:
        """The length of the chat's window (to count recent sends in the database), None without one."""
        spec = self.limits.private_chat if self.is_private(chat_id) else self.limits.group_chat
        return None if spec is None else spec[1] + self.limits.margin

    def _window(self, spec: tuple[int, float] | None) -> Window | None:
        return None if spec is None else Window(spec[0], spec[1] + self.limits.margin)

    def _chat(self, chat_id: str) -> Window | None:
        window = self.chats.get(chat_id)
        if window is None:
            spec = self.limits.private_chat if self.is_private(chat_id) else self.limits.group_chat
            window = self._window(spec)
            if window is None:
                return None
            self.chats[chat_id] = window
        return window

    def grant(self, chat_id: str, wanted: int, now: float, elsewhere: int | None = None) -> int:
        """How many of ``wanted`` sends to the chat may go now; they are counted as sent.

        ``elsewhere``: sends to the chat within its window that the database knows of (every
        instance's, ours included); the chat's limit counts them too.
        """
        chat = self._chat(chat_id)
        windows = [window for window in (self.overall, chat) if window is not None]
        granted = min([wanted, *(window.available(now) for window in windows)])
        if elsewhere is not None and chat is not None:
            granted = min(granted, max(chat.limit - elsewhere, 0))
        for window in windows:
            window.record(now, granted)
        return granted

    def answered(self, chat_id: str, now: float, round_trip: float | None = None) -> None:
        """A granted send came back at ``now``: from now on it counts from when the server saw it.

        ``round_trip``: how long the platform took to answer it, when it did answer (see the module doc).
        """
        if round_trip is not None and round_trip >= 0:
            self._round_trips.append(round_trip)
            self._round_trip_times.append(now)
        seen = now - self.round_trip_credit(now)
        for window in (self.overall, self._chat(chat_id)):
            if window is not None:
                window.answered(seen)

    def round_trip_credit(self, now: float) -> float:
        """How long before its answer an answered send counts: part of the smallest recent round trip."""
        if (len(self._round_trips) < ROUND_TRIP_MIN_SAMPLES
                or now - self._round_trip_times[0] < ROUND_TRIP_SPAN):
            return 0.0
        return ROUND_TRIP_CREDIT * min(self._round_trips)

    def released(self, chat_id: str) -> None:
        """A granted send was not made (an earlier row of its chat failed, or it waited too long)."""
        for window in (self.overall, self._chat(chat_id)):
            if window is not None:
                window.released()

    def ready_at(self, chat_id: str, now: float) -> float:
        windows = [window for window in (self.overall, self._chat(chat_id)) if window is not None]
        return max([now, *(window.ready_at(now) for window in windows)])

    def pause(self, chat_id: str, seconds: float, now: float) -> None:
        """A 429: the chat waits ``retry_after``; 429s in several chats at once pause everything."""
        chat = self._chat(chat_id) or self.chats.setdefault(chat_id, Window(1_000_000, 1.0))
        chat.paused_until = max(chat.paused_until, now + seconds)
        self._recent_429.append((now, chat_id))
        while self._recent_429 and self._recent_429[0][0] < now - RECENT_429_WINDOW:
            self._recent_429.popleft()
        if len({chat for _, chat in self._recent_429}) >= RECENT_429_CHATS:
            overall = self.overall or Window(1_000_000, 1.0)
            self.overall = overall
            overall.paused_until = max(overall.paused_until, now + seconds)

    def forget_idle(self, now: float) -> None:
        """Drop the windows of chats not sent to for a while (memory stays bounded)."""
        for chat_id in [chat_id for chat_id, window in self.chats.items()
                        if window.available(now) == window.limit and now >= window.paused_until]:
            del self.chats[chat_id]
