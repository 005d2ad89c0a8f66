"""Park-level personal data (issue 12) in "see and erase my data" and the retention (issue 13).

What is personal here: a membership (and its opt-out), a "useful" tap, a park-level
conversation being written, and above all an answer to a request (text, photos, and whether
the helper let the official see their name).

* ``/mijngegevens`` lists the memberships, the answers to requests and the number of taps.
* ``/vergeet`` deletes memberships, taps and the conversation. An answer to a request that
  is still open stays for its official (like an open report) without the helper's name; an
  answer to a closed request is deleted.
* The retention: answers to requests closed longer ago than the park's retention are deleted
  (the request itself is the official's text and stays).
"""

from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, func, select

from handlers import park_members
from handlers.context import Context
from handlers.i18n import Markup
from handlers.park_requests import label
from storage.models import Park, ParkLevelDraft, ParkMember, ParkRequest, Person, RequestReply, UpdateUseful

SNIPPET = 80


def sections(ctx: Context) -> list[Markup]:
    """The person's park-level data, for ``/mijngegevens``."""
    found = []
    memberships = park_members.parks_of(ctx.session, ctx.person.id)
    if memberships:
        lines = [ctx.t("mydata.park_members_header")]
        for park, member in memberships:
            lines.append(ctx.t("mydata.park_member_off" if member.opted_out_at else "mydata.park_member_on",
                               park=park.name, since=member.since.strftime("%Y-%m-%d")))
        found.append(Markup("\n".join(lines)))
    replies = ctx.session.exec(
        select(RequestReply, ParkRequest, Park).join(ParkRequest, col(ParkRequest.id) == col(RequestReply.request_id))
        .join(Park, col(Park.id) == col(ParkRequest.park_id))
        .where(RequestReply.helper_person_id == ctx.person.id).order_by(col(RequestReply.id))).all()
    if replies:
        lines = [ctx.t("mydata.park_replies_header")]
        for reply, request, park in replies:
            text = reply.text if len(reply.text) <= SNIPPET else reply.text[:SNIPPET - 1] + "…"
            lines.append(ctx.t("mydata.park_reply_line", label=label(park, request), text=text,
                               photos=len(reply.photos),
                               who=ctx.t("contact.anonymous") if reply.anonymous else ctx.t("contact.named")))
        found.append(Markup("\n".join(lines)))
    taps = ctx.session.exec(select(func.count(col(UpdateUseful.id))).where(
        UpdateUseful.person_id == ctx.person.id)).one()
    if taps:
        found.append(ctx.t("mydata.park_useful", count=taps))
    return found


def forget(session: Session, person: Person) -> None:
    """Erase the person's park-level data (``/vergeet``; see the module docstring)."""
    for table in (ParkMember, ParkLevelDraft, UpdateUseful):
        session.exec(delete(table).where(col(table.person_id) == person.id))
    for reply, request in session.exec(
            select(RequestReply, ParkRequest).join(ParkRequest, col(ParkRequest.id) == col(RequestReply.request_id))
            .where(RequestReply.helper_person_id == person.id)).all():
        if request.status == "open":
            reply.anonymous = True  # its official still works with it; the name is gone
            session.add(reply)
        else:
            session.delete(reply)


def purge_expired_replies(session: Session, park: Park, now: datetime) -> int:
    """Delete the answers to the park's requests closed longer ago than its retention; how many."""
    cutoff = now - timedelta(seconds=park.retention_s)
    closed = select(ParkRequest.id).where(ParkRequest.park_id == park.id, ParkRequest.status == "closed",
                                          col(ParkRequest.closed_at) <= cutoff)
    expired = session.exec(select(RequestReply.id).where(col(RequestReply.request_id).in_(closed))).all()
    if expired:
        session.exec(delete(RequestReply).where(col(RequestReply.id).in_(expired)))
    return len(expired)
