"""``/mijngegevens`` as a file: everything held about a person as one JSON document.

The same facts as the messages, as plain values a person can keep or hand to somebody
(the AVG's right of access and data portability). Moments are UTC in ISO 8601. Officials
appear by their role only, never by name. Photos are listed by the platform's file
reference (Telegram file id or Matrix ``mxc://`` address): the bot keeps no photo itself.
"""

import json
from datetime import datetime

from sqlmodel import Session, col, select

from handlers import park_level_privacy
from handlers.outbox import Attachment
from handlers.rendering import report_number
from storage.models import (
    Category, Park, PendingInput, Person, Report, ReportDraft, ReportEvent, Role,
)

CONVERSATION_KINDS = ("feedback", "question", "answer", "close", "rating", "withdraw")
ACT_KINDS = ("claim", "feedback", "question", "close")


def export(session: Session, person: Person, now: datetime) -> Attachment:
    """The file: ``weerbaar-mijngegevens-<date>.json``."""
    data = {
        "exported": _iso(now),
        "account": {"platform": person.platform, "platform_id": person.external_id, "name": person.display_name,
                    "username": person.username, "language": person.language,
                    "language_chosen_with_command": person.language_chosen, "first_seen": _iso(person.created_at)},
        "roles": _roles(session, person),
        "reports": [_report(session, person, report) for report in session.exec(
            select(Report).where(Report.reporter_person_id == person.id).order_by(col(Report.id)))],
        "acts_as_official": _acts(session, person),
        "report_in_progress": _draft(session, person),
        "waiting_for_text_about": _pending(session, person),
        **park_level_privacy.held_about(session, person),
        "photos_note": "Weerbaar keeps no photos itself, only the platform's reference to each file.",
    }
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
    return Attachment(name=f"weerbaar-mijngegevens-{now:%Y-%m-%d}.json", kind="document",
                      mime="application/json", data=body)


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _roles(session: Session, person: Person) -> list[dict]:
    rows = session.exec(select(Role, Park).join(Park, col(Park.id) == col(Role.park_id))
                        .where(Role.person_id == person.id).order_by(col(Role.id))).all()
    return [{"park": park.name, "role": role.role, "verified": _iso(role.verified_at), "revoked": _iso(role.revoked_at),
             "away_since": _iso(role.away_since)} for role, park in rows]


def _report(session: Session, person: Person, report: Report) -> dict:
    park = session.get(Park, report.park_id)
    category = session.get(Category, report.category_id)
    events = session.exec(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                                    col(ReportEvent.kind).in_(CONVERSATION_KINDS))
                          .order_by(col(ReportEvent.id))).all()
    return {
        "number": report_number(park, report), "park": park.name, "status": report.status,
        "category": category.key if category else None, "where": report.where_text,
        "location": [report.latitude, report.longitude] if report.latitude is not None else None,
        "when": report.when_kind, "when_text": report.when_text, "what": report.what,
        "photos": list(report.photos), "photo_captions": report.photo_captions,
        "name_shown_to_officials": not report.anonymous, "urgent": report.urgent, "sent": _iso(report.created_at),
        "first_feedback": _iso(report.first_feedback_at), "closed": _iso(report.closed_at),
        "withdrawn": _iso(report.withdrawn_at), "rating": report.rating,
        "conversation": [{"when": _iso(event.created_at), "by": "you" if event.person_id == person.id else "official",
                          "kind": event.kind, "text": event.text} for event in events],
    }


def _acts(session: Session, person: Person) -> list[dict]:
    rows = session.exec(
        select(ReportEvent, Report, Park).join(Report, col(Report.id) == col(ReportEvent.report_id))
        .join(Park, col(Park.id) == col(Report.park_id))
        .where(ReportEvent.person_id == person.id, col(ReportEvent.kind).in_(ACT_KINDS),
               Report.reporter_person_id != person.id)
        .order_by(col(ReportEvent.id))).all()
    return [{"when": _iso(event.created_at), "report": report_number(park, report), "act": event.kind}
            for event, report, park in rows]


def _draft(session: Session, person: Person) -> dict | None:
    draft = session.exec(select(ReportDraft).where(ReportDraft.person_id == person.id)).first()
    return None if draft is None else {"park": session.get(Park, draft.park_id).name, "step": draft.step,
                                       "data": draft.data, "last_change": _iso(draft.updated_at)}


def _pending(session: Session, person: Person) -> str | None:
    pending = session.exec(select(PendingInput).where(PendingInput.person_id == person.id)).first()
    if pending is None:
        return None
    report = session.get(Report, pending.report_id)
    return report_number(session.get(Park, report.park_id), report)
