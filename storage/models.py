"""SQLModel tables: the database is the single source of truth.

All datetimes are naive UTC. Platform ids (Telegram chat ids are 64-bit, Matrix ids are
strings) are stored as strings.
"""

from pydantic import NaiveDatetime
from typing import Optional

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class Park(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=32)
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=8)
    timezone: str = Field(default="Europe/Amsterdam", max_length=64)
    language: str = Field(default="nl", max_length=8)
    last_report_number: int = Field(default=0)
    # Reminder policy, durations in seconds.
    first_reminder_after_s: int = Field(default=2 * 86400)
    repeat_every_s: int = Field(default=86400)
    escalate_after: int = Field(default=3)
    urgent_first_reminder_after_s: int = Field(default=3600)
    urgent_repeat_every_s: int = Field(default=3600)
    urgent_in_working_time: bool = Field(default=False)
    work_start: str = Field(default="08:00", max_length=5)
    work_end: str = Field(default="18:00", max_length=5)
    work_days: str = Field(default="1,2,3,4,5", max_length=20)
    # Report content is deleted this long after a report is closed or withdrawn (``/beleid bewaren``).
    retention_s: int = Field(default=365 * 86400)


class Category(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("park_id", "key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    park_id: int = Field(foreign_key="park.id", index=True)
    key: str = Field(max_length=40)
    name_nl: str = Field(max_length=80)
    name_en: str = Field(max_length=80)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    position: int = Field(default=0)
    enabled: bool = Field(default=True)
    # "What to look for" card written by the park's admins; empty: the built-in card for the key.
    signals_nl: Optional[str] = Field(default=None, sa_column=Column(Text))
    signals_en: Optional[str] = Field(default=None, sa_column=Column(Text))


class Person(SQLModel, table=True):
    """Somebody on one platform; the same human on two platforms is two persons."""

    __table_args__ = (UniqueConstraint("platform", "external_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=255)
    display_name: str = Field(default="", max_length=255)
    username: Optional[str] = Field(default=None, max_length=255)
    language: Optional[str] = Field(default=None, max_length=8)
    private_chat_id: Optional[str] = Field(default=None, max_length=255)
    language_chosen: bool = False  # set by /taal; then the platform's language no longer overrides it
    created_at: NaiveDatetime
    forgotten_at: Optional[NaiveDatetime] = None  # /vergeet: personal data erased, unreachable from then on


AWAY_CONDITION = "away_since IS NOT NULL AND revoked_at IS NULL"


class Role(SQLModel, table=True):
    """A verified role of a person in a park: ``admin`` or an official role."""

    __table_args__ = (
        # Who stands in for whom: the few away roles, looked up for a whole sweep chunk at once.
        Index("ix_role_away", "person_id", postgresql_where=text(AWAY_CONDITION), sqlite_where=text(AWAY_CONDITION)),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    park_id: int = Field(foreign_key="park.id", index=True)
    role: str = Field(max_length=32)
    verified_at: NaiveDatetime
    revoked_at: Optional[NaiveDatetime] = None
    away_since: Optional[NaiveDatetime] = None
    backup_person_id: Optional[int] = Field(default=None, foreign_key="person.id")


class Invite(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    park_id: int = Field(foreign_key="park.id", index=True)
    role: str = Field(max_length=32)
    code_hash: str = Field(unique=True, max_length=64)
    created_at: NaiveDatetime
    expires_at: NaiveDatetime
    used_at: Optional[NaiveDatetime] = None
    used_by_person_id: Optional[int] = Field(default=None, foreign_key="person.id")
    created_by_person_id: Optional[int] = Field(default=None, foreign_key="person.id")  # empty: the command line
    cancelled_at: Optional[NaiveDatetime] = None


class GroupChat(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    park_id: int = Field(foreign_key="park.id", index=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=255)
    title: str = Field(default="", max_length=255)
    linked_by_person_id: int = Field(foreign_key="person.id")
    linked_at: NaiveDatetime


class ReportDraft(SQLModel, table=True):
    """A report being written in the guided conversation; one per person."""

    id: Optional[int] = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", unique=True)
    park_id: int = Field(foreign_key="park.id")
    step: str = Field(max_length=32)
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: NaiveDatetime = Field(index=True)


class PendingInput(SQLModel, table=True):
    """A one-shot free-text answer the bot waits for (feedback text, question, answer, ...)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", unique=True)
    kind: str = Field(max_length=32)
    report_id: int = Field(foreign_key="report.id")
    question_id: Optional[int] = None
    created_at: NaiveDatetime


DUE_CONDITION = "status = 'open' AND first_feedback_at IS NULL AND next_reminder_at IS NOT NULL"
OPEN_CONDITION = "status = 'open'"
FIGURE_COLUMNS = ("status", "category_id", "first_feedback_at", "rating", "reminder_count", "next_reminder_at", "id",
                  "roles")


class Report(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("park_id", "number"),
        Index("ix_report_next_reminder_at", "next_reminder_at"),
        # The reminder sweep walks this in order: only open reports without feedback that have a moment.
        Index("ix_report_due", "next_reminder_at", postgresql_where=text(DUE_CONDITION),
              sqlite_where=text(DUE_CONDITION)),
        # Statistics per park and period, read from the index alone: the columns the figures need ride
        # along (INCLUDE on PostgreSQL; on SQLite, which has no INCLUDE, migration 0009_i10 makes them
        # trailing key columns).
        Index("ix_report_park_figures", "park_id", "created_at", postgresql_include=list(FIGURE_COLUMNS)),
        Index("ix_report_reporter_created", "reporter_person_id", "created_at"),  # /mijnmeldingen
        # /open: the open reports of an official's parks, oldest first (bounded by what is open, not by history).
        Index("ix_report_open", "park_id", "created_at", "id", postgresql_include=["roles"],
              postgresql_where=text(OPEN_CONDITION), sqlite_where=text(OPEN_CONDITION)),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    park_id: int = Field(foreign_key="park.id", index=True)
    number: int
    category_id: int = Field(foreign_key="category.id")
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    where_text: Optional[str] = Field(default=None, sa_column=Column(Text))
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    when_kind: str = Field(max_length=16)
    when_text: Optional[str] = Field(default=None, sa_column=Column(Text))
    what: str = Field(sa_column=Column(Text, nullable=False))
    photos: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The reporter's caption of each photo, in the order of ``photos`` (None: no caption).
    photo_captions: Optional[list] = Field(default=None, sa_column=Column(JSON))
    anonymous: bool = True
    urgent: bool = False
    # None once the report's content was purged after the retention: only anonymous figures remain.
    reporter_person_id: Optional[int] = Field(default=None, foreign_key="person.id", index=True)
    status: str = Field(default="open", max_length=16)  # open | closed | withdrawn
    lead_person_id: Optional[int] = Field(default=None, foreign_key="person.id")
    created_at: NaiveDatetime
    first_feedback_at: Optional[NaiveDatetime] = None
    closed_at: Optional[NaiveDatetime] = None
    withdrawn_at: Optional[NaiveDatetime] = None
    reminder_count: int = 0
    last_reminded_at: Optional[NaiveDatetime] = None
    next_reminder_at: Optional[NaiveDatetime] = None
    escalated_at: Optional[NaiveDatetime] = None
    rating: Optional[str] = Field(default=None, max_length=16)  # answered | not_enough
    purged_at: Optional[NaiveDatetime] = None  # content deleted after the park's retention


class FiguresMonth(SQLModel, table=True):
    """A park's reports of one month (UTC, by ``created_at``), summarized for the figures of long periods.

    ``version`` is raised by database triggers (migration ``0012_i10``) whenever a report of that
    park and month is added or changes in a column the figures read, whatever wrote it;
    ``summary`` (JSON, see ``storage/figures_months.py``) holds when ``summary_version`` equals it.
    """

    park_id: int = Field(foreign_key="park.id", primary_key=True)
    month: str = Field(max_length=7, primary_key=True)  # "YYYY-MM"
    version: int = 1
    summary_version: Optional[int] = None
    summary: Optional[str] = Field(default=None, sa_column=Column(Text))


class ReportRecipient(SQLModel, table=True):
    """An official a report was delivered to."""

    __table_args__ = (
        UniqueConstraint("report_id", "person_id"),
        Index("ix_reportrecipient_person_report", "person_id", "report_id"),  # /open of one official
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)


class ReportEvent(SQLModel, table=True):
    """History of a report: claim, feedback, question, answer, close, withdraw, reminder."""

    id: Optional[int] = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    person_id: Optional[int] = Field(default=None, foreign_key="person.id")
    kind: str = Field(max_length=16)
    text: Optional[str] = Field(default=None, sa_column=Column(Text))
    created_at: NaiveDatetime


class OutboxMessage(SQLModel, table=True):
    """A message to deliver, written in the same transaction as the change that caused it."""

    __table_args__ = (
        Index("ix_outbox_status_due", "status", "next_attempt_at"),
        Index("ix_outbox_created_at", "created_at"),  # pruning delivered rows after the retention
        # The dispatcher takes pending rows in order: a small index however many rows were sent.
        Index("ix_outbox_pending", "id", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        Index("ix_outbox_chat_pending", "platform", "chat_id", "status", "id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=255)
    text: Optional[str] = Field(default=None, sa_column=Column(Text))
    choices: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    photo: Optional[str] = Field(default=None, max_length=1024)
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    purpose: str = Field(default="reply", max_length=32)
    report_id: Optional[int] = Field(default=None, foreign_key="report.id", index=True)
    recipient_person_id: Optional[int] = Field(default=None, foreign_key="person.id")
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: NaiveDatetime
    created_at: NaiveDatetime
    sent_at: Optional[NaiveDatetime] = None
    error: Optional[str] = Field(default=None, max_length=255)
    platform_message_id: Optional[str] = Field(default=None, max_length=255)
    claimed_by: Optional[str] = Field(default=None, max_length=120)  # the sender holding its lease
    # A file sent with the message (the text is its caption): a chart image or a document.
    attachment: Optional[bytes] = Field(default=None, sa_column=Column(LargeBinary))
    attachment_name: Optional[str] = Field(default=None, max_length=255)
    attachment_kind: Optional[str] = Field(default=None, max_length=16)  # image | document
    attachment_mime: Optional[str] = Field(default=None, max_length=64)
    # A person's file or video passed on by reference: {"kind", "ref", "name", "mime", "size"}
    # (``handlers.messages.SharedFile``); the text is its caption.
    file: Optional[dict] = Field(default=None, sa_column=Column(JSON))


class PendingCommand(SQLModel, table=True):
    """A command waiting for the person to say which park they meant."""

    id: Optional[int] = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    command: str = Field(max_length=32)
    args: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: NaiveDatetime


class AdminChange(SQLModel, table=True):
    """Audit trail: who changed what in a park's administration, before and after."""

    id: Optional[int] = Field(default=None, primary_key=True)
    park_id: int = Field(foreign_key="park.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    action: str = Field(max_length=40)
    subject: str = Field(default="", max_length=255)
    before: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    after: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    created_at: NaiveDatetime = Field(index=True)


class InboxUpdate(SQLModel, table=True):
    """An update received from a platform (the inbox): stored before it is acknowledged.

    ``key`` is ``telegram:<update_id>`` or ``matrix:<event_id>``. ``payload`` holds the neutral
    message until it is applied; ``applied_at`` is set in the same transaction as the update's
    effects (and the payload, which may carry report text, is cleared then). A key that is
    already here is a redelivery and is skipped.
    """

    __table_args__ = (Index("ix_inboxupdate_pending", "applied_at", "id"),)
    id: Optional[int] = Field(default=None, primary_key=True)  # the order received
    key: str = Field(unique=True, max_length=300)
    payload: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    received_at: NaiveDatetime
    applied_at: Optional[NaiveDatetime] = None
    #: Webhook mode (several instances): the instance handling it, and the chat and person it is
    #: ordered by, so an instance applies an update only after the earlier ones of that chat.
    holder: Optional[str] = Field(default=None, max_length=120)
    chat_lane: Optional[str] = Field(default=None, max_length=200)
    person_lane: Optional[str] = Field(default=None, max_length=200)


class Lease(SQLModel, table=True):
    """A named lease held by one running instance (the Telegram poller, the leader, an instance's heartbeat)."""

    name: str = Field(primary_key=True, max_length=120)
    holder: str = Field(max_length=120)
    expires_at: NaiveDatetime


# ---- park level: updates, requests with follow-up, the monthly digest (issue 12) -----------------

class ParkMember(SQLModel, table=True):
    """Somebody the platform confirmed as a member of a park's linked group; receives private updates."""

    __table_args__ = (UniqueConstraint("park_id", "person_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    park_id: int = Field(foreign_key="park.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    since: NaiveDatetime
    opted_out_at: Optional[NaiveDatetime] = None
    checked_at: Optional[NaiveDatetime] = None  # last time the platform was asked whether they are still in
    missed_checks: int = 0  # consecutive checks that found them in none of the park's groups


class ParkLevelDraft(SQLModel, table=True):
    """A park-level conversation in progress (an update, a request, a help reply, an answer); one per person."""

    id: Optional[int] = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", unique=True)
    kind: str = Field(max_length=16)
    step: str = Field(max_length=16)
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: NaiveDatetime


class ParkUpdate(SQLModel, table=True):
    """An update an official or admin sent to a park: to its group(s) and/or privately to its members."""

    id: Optional[int] = Field(default=None, primary_key=True)
    park_id: int = Field(foreign_key="park.id", index=True)
    author_person_id: int = Field(foreign_key="person.id", index=True)
    author_role: str = Field(max_length=32)
    show_name: bool = False
    text: str = Field(sa_column=Column(Text, nullable=False))
    photo: Optional[str] = Field(default=None, max_length=1024)
    to_groups: int = 0  # how many linked groups it was posted in
    to_members: int = 0  # how many members received it privately
    created_at: NaiveDatetime = Field(index=True)


class UpdateUseful(SQLModel, table=True):
    """One member's "useful" tap on an update (one per person)."""

    __table_args__ = (UniqueConstraint("update_id", "person_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    update_id: int = Field(foreign_key="parkupdate.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    created_at: NaiveDatetime


class ParkRequest(SQLModel, table=True):
    """An official's call for help posted in a park's group, followed up until it is closed."""

    __table_args__ = (UniqueConstraint("park_id", "number"), Index("ix_parkrequest_next_reminder_at", "next_reminder_at"))
    id: Optional[int] = Field(default=None, primary_key=True)
    park_id: int = Field(foreign_key="park.id", index=True)
    number: int
    author_person_id: int = Field(foreign_key="person.id", index=True)
    author_role: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="open", max_length=16)  # open | closed
    created_at: NaiveDatetime
    closed_at: Optional[NaiveDatetime] = None
    closing_text: Optional[str] = Field(default=None, sa_column=Column(Text))
    reminder_count: int = 0
    next_reminder_at: Optional[NaiveDatetime] = None


class RequestReply(SQLModel, table=True):
    """A member's private answer to a request; the group never sees who helped."""

    id: Optional[int] = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="parkrequest.id", index=True)
    helper_person_id: int = Field(foreign_key="person.id", index=True)
    anonymous: bool = True
    text: str = Field(sa_column=Column(Text, nullable=False))
    photos: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Files and videos (camera footage) as references, each {"kind", "ref", "name", "mime", "size"}:
    # a column of their own, so that everything reading ``photos`` (privacy, export) stays as it was.
    files: Optional[list] = Field(default=None, sa_column=Column(JSON))
    created_at: NaiveDatetime
    answered_at: Optional[NaiveDatetime] = None


class DigestSchedule(SQLModel, table=True):
    """When a park's monthly digest is posted in its group; ``day`` 0 is the first working day."""

    id: Optional[int] = Field(default=None, primary_key=True)
    park_id: int = Field(foreign_key="park.id", unique=True)
    enabled: bool = True
    day: int = 0
    at: str = Field(default="09:00", max_length=5)
    last_period: Optional[str] = Field(default=None, max_length=7)  # "2026-11": the month last posted in


class ParkScan(SQLModel, table=True):
    """A short survey of a park's members; ``salt`` exists only while it is open."""

    __table_args__ = (Index("ix_parkscan_status_closes_at", "status", "closes_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    park_id: int = Field(foreign_key="park.id", index=True)
    started_by_person_id: int = Field(foreign_key="person.id")
    status: str = Field(default="open", max_length=16)  # planned | open | closed | cancelled (a planned one)
    questions: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    salt: Optional[str] = Field(default=None, max_length=64)
    invited: int = 0
    opened_at: NaiveDatetime
    remind_at: Optional[NaiveDatetime] = None
    closes_at: NaiveDatetime
    closed_at: Optional[NaiveDatetime] = None


class ScanProgress(SQLModel, table=True):
    """Where one (hashed) person is in an open scan; all rows are deleted when the scan closes."""

    __table_args__ = (UniqueConstraint("scan_id", "person_hash"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    scan_id: int = Field(foreign_key="parkscan.id", index=True)
    person_hash: str = Field(max_length=64)
    respondent: str = Field(max_length=32)
    position: int = 0
    selected: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    finished: bool = False
    opted_out: bool = False


class ScanAnswer(SQLModel, table=True):
    """One answer, keyed by a random respondent id that is never linked to a person after closing."""

    id: Optional[int] = Field(default=None, primary_key=True)
    scan_id: int = Field(foreign_key="parkscan.id", index=True)
    respondent: str = Field(max_length=32)
    question: str = Field(max_length=40)
    value: str = Field(max_length=40)


class ScanQuestionSet(SQLModel, table=True):
    """A park's changes to the scan's default questions: ``{key: {"enabled": bool, "nl": str, "en": str}}``."""

    id: Optional[int] = Field(default=None, primary_key=True)
    park_id: int = Field(foreign_key="park.id", unique=True)
    changes: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ReportAccess(SQLModel, table=True):
    """Who saw what: a report delivered to, or exported by, a person (its other acts are ReportEvents)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    person_id: Optional[int] = Field(default=None, foreign_key="person.id")
    action: str = Field(max_length=16)  # received | exported
    created_at: NaiveDatetime


class RateEvent(SQLModel, table=True):
    """Something a person did that is rate limited and not recorded elsewhere (a wrong invite code)."""

    __table_args__ = (Index("ix_rateevent_person_kind_at", "person_id", "kind", "created_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    kind: str = Field(max_length=24)
    created_at: NaiveDatetime = Field(index=True)
