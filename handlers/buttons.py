"""Button data: one typed value per kind of button, packed and read back in this one place.

Like aiogram's ``CallbackData``: each kind is a frozen dataclass with a prefix; its fields are
written after the prefix, separated by ``:`` (``r12:claim``, ``d7:when:now``, ``pc3:5``).
The formats of the kinds that existed before this module are kept, so buttons already in
people's chats keep working after an upgrade.

``unpack`` never raises: data that fits no kind or a word outside a kind's allowed values
reads as ``Unknown``, which the router answers as an outdated button. A number no row can
have (above ``handlers.numbers.MAX_ID``, the database's 32-bit ids) reads as ``NO_ROW``, so a
forged ``r99999999999999999999999:claim`` gets the same answer as any unknown report.
"""

import re
from dataclasses import dataclass, fields
from typing import ClassVar, Literal, get_args, get_origin, get_type_hints

from handlers.numbers import as_id

#: Telegram's limit for ``callback_data``, in bytes.
MAX_BYTES = 64
NUMBER = re.compile(r"[0-9]+")
WORD = re.compile(r"[A-Za-z0-9_.-]{1,40}")

ReportActionName = Literal["claim", "fb", "fbt", "ask", "close", "clt", "fb1", "fb2", "fb3", "cl1", "cl2",
                           "ok", "no", "wd", "wdy"]
RequestToolName = Literal["a", "c", "ct", "c1", "c2"]


class ButtonData:
    """A kind of button; subclasses are frozen dataclasses with a ``prefix``."""

    prefix: ClassVar[str]

    def pack(self) -> str:
        parts = [str(getattr(self, field.name)) for field in fields(self)]
        data = self.prefix + ":".join(parts)
        if any(":" in part for part in parts) or len(data.encode()) > MAX_BYTES:
            raise ValueError(f"button data does not fit: {data!r}")
        return data


@dataclass(frozen=True)
class Unknown:
    """Data no kind accepts: forged, damaged or from a version long gone."""

    raw: str


@dataclass(frozen=True)
class DraftStep(ButtonData):
    """A choice in the guided report (``value`` is checked by the report flow)."""

    prefix: ClassVar[str] = "d"
    draft_id: int
    step: str
    value: str


@dataclass(frozen=True)
class ReportPark(ButtonData):
    """Start a report in this park (asked when someone is a member of several)."""

    prefix: ClassVar[str] = "p"
    park_id: int


@dataclass(frozen=True)
class ParkChoice(ButtonData):
    """The park for a command that was waiting for one (``PendingCommand``)."""

    prefix: ClassVar[str] = "pc"
    pending_id: int
    park_id: int


@dataclass(frozen=True)
class LanguageChoice(ButtonData):
    prefix: ClassVar[str] = "lang:"
    language: Literal["nl", "en"]


@dataclass(frozen=True)
class ShowSignals(ButtonData):
    """The "what to look for" cards."""

    prefix: ClassVar[str] = "signals"


@dataclass(frozen=True)
class ReportAction(ButtonData):
    """What an official or the reporter does with a sent report."""

    prefix: ClassVar[str] = "r"
    report_id: int
    action: ReportActionName


@dataclass(frozen=True)
class AnswerQuestion(ButtonData):
    """The reporter answers an official's question."""

    prefix: ClassVar[str] = "q"
    question_id: int
    action: Literal["ans"] = "ans"


@dataclass(frozen=True)
class RoleAction(ButtonData):
    """An admin acts on one verified role from ``/instanties``."""

    prefix: ClassVar[str] = "o"
    role_id: int
    action: Literal["manage", "revoke", "revoke_yes", "away", "back"]


@dataclass(frozen=True)
class BackupChoice(ButtonData):
    """The person who stands in while the role's holder is away."""

    prefix: ClassVar[str] = "ob"
    role_id: int
    backup_person_id: int


@dataclass(frozen=True)
class CategoryAction(ButtonData):
    """An admin changes one category from ``/categorieen``."""

    prefix: ClassVar[str] = "c"
    category_id: int
    action: Literal["manage", "on", "off", "up", "down", "roles"]


@dataclass(frozen=True)
class CategoryRole(ButtonData):
    """Route a category to a role, or stop routing it there (a toggle)."""

    prefix: ClassVar[str] = "cr"
    category_id: int
    role: str


@dataclass(frozen=True)
class InviteCancel(ButtonData):
    """Cancel an outstanding invite from ``/uitnodigingen``."""

    prefix: ClassVar[str] = "i"
    invite_id: int
    action: Literal["cancel"] = "cancel"


@dataclass(frozen=True)
class OpenPage(ButtonData):
    """Turn the page of ``/open`` (1-based)."""

    prefix: ClassVar[str] = "open:"
    page: int


# ---- park level (issue 12): updates, requests, scans; their prefixes end in ``:`` ------------------

@dataclass(frozen=True)
class ParkDraftStep(ButtonData):
    """A choice in a park-level conversation (``handlers.park_drafts``): ``k:<draft id>:<step>:<value>``."""

    prefix: ClassVar[str] = "k:"
    draft_id: int
    step: str
    value: str


@dataclass(frozen=True)
class UpdateReaction(ButtonData):
    """Under a park update: ``u:<update id>:ok`` (useful) or ``:off`` (no more private updates)."""

    prefix: ClassVar[str] = "u:"
    update_id: int
    action: Literal["ok", "off"]


@dataclass(frozen=True)
class RequestTool(ButtonData):
    """The requesting official's tools: answer a reply (``h:a:<reply>``), close a request (``h:c:<request>``;
    ``c1``/``c2`` ready-made closing texts, ``ct`` their own)."""

    prefix: ClassVar[str] = "h:"
    action: RequestToolName
    ident: int


@dataclass(frozen=True)
class ScanChoice(ButtonData):
    """An answer in the park scan: ``s:<scan id>:<question index>:<value>`` (``x``: opt out)."""

    prefix: ClassVar[str] = "s:"
    scan_id: int
    position: int
    value: str


KINDS: tuple[type[ButtonData], ...] = (
    DraftStep, ReportPark, ParkChoice, LanguageChoice, ShowSignals, ReportAction, AnswerQuestion, RoleAction,
    BackupChoice, CategoryAction, CategoryRole, InviteCancel, OpenPage,
    ParkDraftStep, UpdateReaction, RequestTool, ScanChoice,
)


def unpack(data: str | None) -> ButtonData | Unknown:
    """The typed value of button data; ``Unknown`` for anything that is not exactly one of the kinds."""
    if not data or len(data.encode()) > MAX_BYTES:
        return Unknown(data or "")
    for kind in sorted(KINDS, key=lambda kind: len(kind.prefix), reverse=True):
        if data.startswith(kind.prefix):
            value = _read(kind, data[len(kind.prefix):])
            if value is not None:
                return value
    return Unknown(data)


def _read(kind: type[ButtonData], rest: str) -> ButtonData | None:
    names = [field.name for field in fields(kind)]
    if not names:
        return kind() if rest == "" else None
    parts = rest.split(":")
    if len(parts) != len(names):
        return None
    hints = get_type_hints(kind)
    values = {}
    for name, part in zip(names, parts):
        value = _convert(hints[name], part)
        if value is None:
            return None
        values[name] = value
    return kind(**values)


def _convert(hint, part: str):
    if hint is int:
        return as_id(part) if NUMBER.fullmatch(part) else None
    if get_origin(hint) is Literal:
        return part if part in get_args(hint) else None
    return part if WORD.fullmatch(part) else None
