"""One reminder message per official (and one escalation per admin) for a whole sweep.

A sweep works in chunks, each its own transaction. A person's first chunk writes their
digest together with its state changes (the outbox rule), *held*: due only at
``now + DIGEST_HOLD``. The sweep's last transaction rewrites each digest that grew since,
once, and releases them all (rewriting after every chunk would cost a rendering and an
UPDATE per person per chunk). Should the process die mid-sweep, the held digests go out
by themselves when the hold ends, listing the reports counted so far. Only when a sender
took a digest anyway (a hold shorter than the sweep) does the person get a second message
with the cumulative list.

A digest shows the most pressing reports (urgent first, then oldest) with a claim and a
feedback button each, and says how many more there are ("and 14 more — /open"). Its outbox
row names the most pressing report, so a digest that can never be delivered is reported to
that park's admins like any reminder (``handlers.failures``).
"""

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlmodel import Session, col

from handlers.buttons import ReportAction
from handlers.i18n import Markup, Translator
from handlers.messages import Button
from handlers.rendering import age
from storage.models import OutboxMessage
from storage.reminder_queries import Addressee, untouched_outbox

SHOWN_PER_DIGEST = 10  # reports listed with buttons; the rest are counted (20 buttons at most)
DIGEST_HOLD = timedelta(minutes=10)  # longer than a sweep takes; the digests of a crashed sweep go out after it


@dataclass(frozen=True)
class DigestItem:
    report_id: int
    number: str
    category_nl: str
    category_en: str
    created_at: datetime
    urgent: bool
    reminder_count: int
    led_by_reader: bool = False  # reminders: the reader leads the report
    lead_name: str | None = None  # escalations: who leads it, if anyone

    def priority(self) -> tuple:
        """Smaller is more pressing: urgent first, then oldest, then lowest id."""
        return (not self.urgent, self.created_at, self.report_id)

    def category(self, language: str) -> str:
        return self.category_en if language == "en" else self.category_nl


@dataclass
class Digest:
    """What one person is told this sweep: the most pressing reports and how many in all."""

    person: Addressee
    kind: str  # reminder | escalation
    total: int = 0
    shown: list = field(default_factory=list)  # a heap of (negated priority, item), bounded
    outbox_id: int | None = None
    changed: bool = False

    def add(self, item: DigestItem) -> None:
        self.total += 1
        self.changed = True
        entry = (_Reversed(item.priority()), item)
        if len(self.shown) < SHOWN_PER_DIGEST:
            heapq.heappush(self.shown, entry)
        elif entry[0] > self.shown[0][0]:
            heapq.heapreplace(self.shown, entry)

    def items(self) -> list[DigestItem]:
        return sorted((item for _, item in self.shown), key=DigestItem.priority)


class _Reversed:
    """Orders by the reverse of a key, so a min-heap keeps the smallest keys (the most pressing)."""

    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __lt__(self, other):
        return self.key > other.key

    def __gt__(self, other):
        return self.key < other.key

    def __eq__(self, other):
        return self.key == other.key


class Digests:
    """All digests of one sweep, keyed by person and kind."""

    def __init__(self, texts: Translator, now: datetime):
        self.texts = texts
        self.now = now
        self.held_until = now + DIGEST_HOLD
        self.by_person: dict[tuple[int, str], Digest] = {}
        # A report's line and buttons, rendered once per reader kind within one ``write`` (the same
        # report is in several officials' digests); emptied after it, so a sweep never holds the
        # lines of every report it listed (measured: ~15 MiB at the end of a 100,000-report sweep).
        self._lines: dict[tuple, tuple[str, list | None]] = {}

    def add(self, person: Addressee, kind: str, item: DigestItem) -> None:
        digest = self.by_person.get((person.id, kind))
        if digest is None:
            digest = self.by_person[(person.id, kind)] = Digest(person=person, kind=kind)
        digest.add(item)

    def people(self, kind: str) -> int:
        return sum(1 for digest in self.by_person.values() if digest.kind == kind)

    def write(self, session: Session, final: bool) -> None:
        """Insert (held) the outbox row of every digest new in this chunk; at the end of the sweep
        (``final``) rewrite those that grew since and release them all. A few statements either way."""
        held = [digest for digest in self.by_person.values() if digest.outbox_id is not None]
        untouched = untouched_outbox(session, [digest.outbox_id for digest in held], self.held_until) if final else set()
        rewrites, releases, inserts = [], [], []
        for digest in self.by_person.values():
            if digest.outbox_id is not None and not final:
                continue  # grown digests are rewritten once, at the end
            if digest.outbox_id is not None and digest.outbox_id in untouched:
                if digest.changed:
                    text, choices = self.render(digest)
                    rewrites.append({"id": digest.outbox_id, "text": text, "choices": choices,
                                     "report_id": digest.items()[0].report_id, "next_attempt_at": self.now})
                else:
                    releases.append(digest.outbox_id)
            elif digest.changed:  # new, or already taken by a sender: a row of its own
                text, choices = self.render(digest)
                inserts.append((digest, text, choices))
            digest.changed = False
        self._lines.clear()
        if rewrites:
            session.execute(update(OutboxMessage), rewrites)
        if releases:
            session.execute(update(OutboxMessage).where(col(OutboxMessage.id).in_(releases))
                            .values(next_attempt_at=self.now).execution_options(synchronize_session=False))
        if inserts:
            ids = session.execute(
                insert(OutboxMessage).returning(OutboxMessage.id, sort_by_parameter_order=True),
                [self._row(digest, text, choices, self.now if final else self.held_until)
                 for digest, text, choices in inserts]).scalars().all()
            for (digest, _, _), outbox_id in zip(inserts, ids, strict=True):
                digest.outbox_id = outbox_id

    def _row(self, digest: Digest, text: str, choices: list, due_at: datetime) -> dict:
        person = digest.person
        return dict(platform=person.platform, chat_id=person.private_chat_id or "", text=text, choices=choices,
                    purpose=digest.kind, report_id=digest.items()[0].report_id, recipient_person_id=person.id,
                    status="pending",
                    attempts=0, next_attempt_at=due_at, created_at=self.now)

    def render(self, digest: Digest) -> tuple[str, list]:
        """The digest's text and buttons in the reader's language."""
        texts = self.texts.on(digest.person.platform)  # Matrix: "!open", no talk of tapping
        language = texts.language_for(digest.person.language)
        items = digest.items()
        many = "one" if digest.total == 1 else "many"
        lines = [texts(language, f"{digest.kind}.digest_header_{many}", count=digest.total)]
        choices = []
        for item in items:
            line, buttons = self._line(texts, digest.kind, language, item)
            lines.append(line)
            if buttons is not None:
                choices.append(buttons)
        if digest.total > len(items):
            lines.append(texts(language, f"{digest.kind}.digest_more", more=digest.total - len(items)))
        return Markup("\n".join(lines)), choices

    def _line(self, texts: Translator, kind: str, language: str, item: DigestItem) -> tuple[str, list | None]:
        """One report's line (and its row of buttons), rendered once per sweep, platform, language and kind."""
        key = (texts.platform, kind, language, item)
        if key in self._lines:
            return self._lines[key]
        t = lambda key, **values: texts(language, key, **values)  # noqa: E731
        values = dict(number=item.number, category=item.category(language), count=item.reminder_count,
                      age=age(texts, language, item.created_at, self.now),
                      urgent=t("digest.urgent") if item.urgent else "")
        if kind == "escalation":
            rendered = (texts.plural(language, "escalation.digest_line", item.reminder_count,
                                     lead=item.lead_name or t("open.no_lead"),
                                     **{name: value for name, value in values.items() if name != "count"}), None)
        else:
            key_name = "reminder.digest_line_lead" if item.led_by_reader else "reminder.digest_line_unclaimed"
            row = [Button(f"{item.number}: {t('action.feedback')}", data=ReportAction(item.report_id, "fb"))]
            if not item.led_by_reader:
                row.insert(0, Button(f"{item.number}: {t('action.claim')}", data=ReportAction(item.report_id, "claim")))
            rendered = (t(key_name, **values), [button.as_json() for button in row])
        self._lines[key] = rendered
        return rendered
