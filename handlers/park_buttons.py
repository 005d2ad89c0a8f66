"""Button data of the park-level features (issue 12), typed like :mod:`handlers.buttons`.

Each kind has its own prefix ending in ``:``, distinct from every kind in ``handlers.buttons``.
"""

from dataclasses import dataclass
from typing import ClassVar, Literal

from handlers.buttons import MAX_BYTES, ButtonData, _read

RequestToolName = Literal["a", "c", "ct", "c1", "c2"]


@dataclass(frozen=True)
class ParkDraftStep(ButtonData):
    """A choice in a park-level conversation: ``k:<draft id>:<step>:<value>``."""

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
    """The requesting official's tools: answer a reply (``h:a:<reply>``), close (``h:c:<request>``, ``c1``, ``c2``,
    ``ct``)."""

    prefix: ClassVar[str] = "h:"
    action: RequestToolName
    ident: int


@dataclass(frozen=True)
class ScanChoice(ButtonData):
    """An answer in the park scan: ``s:<scan id>:<question index>:<value>``."""

    prefix: ClassVar[str] = "s:"
    scan_id: int
    position: int
    value: str


PARK_KINDS: tuple[type[ButtonData], ...] = (ParkDraftStep, UpdateReaction, RequestTool, ScanChoice)


def unpack_park(data: str | None) -> ButtonData | None:
    """The park-level kind of this data, or None when it is none of them."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    for kind in PARK_KINDS:
        if data.startswith(kind.prefix):
            return _read(kind, data[len(kind.prefix):])
    return None
