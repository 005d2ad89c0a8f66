"""Periodic park-level work: reminders of open requests and the monthly digests."""

from dataclasses import dataclass

from sqlmodel import col, func, select

from handlers.messages import Button
from handlers.outbox import enqueue_to
from handlers.park_digest import post_due_digests
from handlers.buttons import RequestTool
from handlers.park_requests import label
from handlers.park_scan import run_due as run_due_scans
from handlers.policy import next_reminder
from handlers.rendering import age
from handlers.services import Services
from storage.models import Park, ParkRequest, Person, RequestReply
from storage.queries import has_role


@dataclass(frozen=True)
class _Routine:
    urgent: bool = False


def run(services: Services) -> int:
    """Everything park-level that is due; returns how many messages, digests or scans it caused."""
    return remind_open_requests(services) + post_due_digests(services) + run_due_scans(services)


def remind_open_requests(services: Services) -> int:
    """Remind each open request's official on the park's policy until they close it."""
    texts = services.texts
    sent = 0
    with services.db.transaction() as session:
        now = services.clock.now()
        due = list(session.exec(
            select(ParkRequest).where(ParkRequest.status == "open", col(ParkRequest.next_reminder_at).is_not(None),
                                      col(ParkRequest.next_reminder_at) <= now)
            .order_by(col(ParkRequest.next_reminder_at)).limit(100).with_for_update(skip_locked=True)))
        for request in due:
            park = session.get(Park, request.park_id)
            official = session.get(Person, request.author_person_id)
            if not has_role(session, official.id, park.id, [request.author_role]):
                request.next_reminder_at = None  # the role ended: nobody left to remind
                session.add(request)
                continue
            request.reminder_count += 1
            request.next_reminder_at = next_reminder(park, _Routine(), now, first=False)
            session.add(request)
            language = texts.language_for(official.language)
            answers = session.exec(select(func.count(col(RequestReply.id))).where(
                RequestReply.request_id == request.id)).one()
            enqueue_to(session, now=now, person=official, purpose="reminder",
                       text=texts(language, "request.reminder", label=label(park, request), answers=answers,
                                  age=age(texts, language, request.created_at, now)),
                       buttons=[[Button(texts(language, "request.close_button"), data=RequestTool("c", request.id))]])
            sent += 1
    return sent
