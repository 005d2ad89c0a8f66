"""The numbers admins see and type: per park (1, 2, 3…), never database ids shared between parks.

Numbers are stable: a person keeps theirs for as long as the park exists (ordered by their
first role there, revoked ones included), a category and an invite keep theirs by age. So
``/intrekken 3`` typed from an older listing never reaches someone else.
"""

import re

from sqlmodel import Session, col, func, select

from storage.models import Category, Invite, Role

NUMBER = re.compile(r"#?(\d{1,9})")


def parse_number(text: str) -> int | None:
    """``3`` or ``#3``; anything else (also a number too long to be one of ours) is None."""
    match = NUMBER.fullmatch(text.strip())
    return int(match.group(1)) if match else None


def people(session: Session, park_id: int) -> dict[int, int]:
    """person id → their number in the park."""
    rows = session.exec(select(Role.person_id, func.min(Role.id)).where(Role.park_id == park_id)
                        .group_by(col(Role.person_id))).all()
    ordered = sorted(rows, key=lambda row: row[1])
    return {person_id: number for number, (person_id, _) in enumerate(ordered, start=1)}


def categories(session: Session, park_id: int) -> dict[int, int]:
    """category id → its number in the park."""
    ids = session.exec(select(Category.id).where(Category.park_id == park_id).order_by(col(Category.id))).all()
    return {category_id: number for number, category_id in enumerate(ids, start=1)}


def invites(session: Session, park_id: int) -> dict[int, int]:
    """invite id → its number in the park."""
    ids = session.exec(select(Invite.id).where(Invite.park_id == park_id).order_by(col(Invite.id))).all()
    return {invite_id: number for number, invite_id in enumerate(ids, start=1)}


def find(numbers: dict[int, int], wanted: int | None) -> int | None:
    """The id with number ``wanted``."""
    return next((ident for ident, number in numbers.items() if number == wanted), None)
