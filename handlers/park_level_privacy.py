"""Privacy of issue 12's park-level data: what ``/mijngegevens`` shows, ``/vergeet`` erases, retention deletes.

What is personal there, and what happens to it:

* **help replies** to a request (text, photo references, who helped): shown to the helper;
  erased by ``/vergeet`` (the requesting official keeps only what was already delivered to
  them); deleted the park's retention after the request was closed.
* **"useful" marks** on updates (who tapped): shown; erased by ``/vergeet``; deleted the park's
  retention after the update was sent (the update's figures in a digest are counted before that).
* **park membership** (which park's group the platform saw the person in): shown; erased.
* **park-level conversations in progress** (an update, request, help reply being written):
  shown; erased; deleted like report drafts once idle (the prompt retention).
* **scans**: answers are stored under a random respondent id, never with the person; while a
  scan is open a salted hash of the person says where they are in it (so nobody answers
  twice). ``/vergeet`` deletes that hash row and the answers given under it; closing a scan
  deletes all hash rows and the salt, after which nothing links an answer to anybody.
* **updates and requests an official wrote** are the park's public notices and stay; after
  ``/vergeet`` they point at the emptied person row and are no longer signed with a name.

The admin audit trail (``AdminChange``) of a park is deleted after the park's retention as well.
"""

from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from handlers.park_scan import person_hash
from storage.models import (
    AdminChange, InboxUpdate, Park, ParkLevelDraft, ParkMember, ParkRequest, ParkScan, ParkUpdate, Person,
    RequestReply, ScanAnswer, ScanProgress, UpdateUseful,
)

#: An update stuck unapplied this long (the bot could never handle it) loses the content it carries.
STUCK_INBOX = timedelta(days=7)


# ---- what is held -----------------------------------------------------------------------------------

def held_about(session: Session, person: Person) -> dict:
    """Everything park-level held about the person, as plain values (for the text and the file)."""
    memberships = session.exec(select(ParkMember, Park).join(Park, col(Park.id) == col(ParkMember.park_id))
                               .where(ParkMember.person_id == person.id).order_by(col(ParkMember.id))).all()
    replies = session.exec(select(RequestReply, ParkRequest, Park)
                           .join(ParkRequest, col(ParkRequest.id) == col(RequestReply.request_id))
                           .join(Park, col(Park.id) == col(ParkRequest.park_id))
                           .where(RequestReply.helper_person_id == person.id).order_by(col(RequestReply.id))).all()
    useful = session.exec(select(UpdateUseful, ParkUpdate, Park)
                          .join(ParkUpdate, col(ParkUpdate.id) == col(UpdateUseful.update_id))
                          .join(Park, col(Park.id) == col(ParkUpdate.park_id))
                          .where(UpdateUseful.person_id == person.id).order_by(col(UpdateUseful.id))).all()
    updates = session.exec(select(ParkUpdate, Park).join(Park, col(Park.id) == col(ParkUpdate.park_id))
                           .where(ParkUpdate.author_person_id == person.id).order_by(col(ParkUpdate.id))).all()
    requests = session.exec(select(ParkRequest, Park).join(Park, col(Park.id) == col(ParkRequest.park_id))
                            .where(ParkRequest.author_person_id == person.id).order_by(col(ParkRequest.id))).all()
    draft = session.exec(select(ParkLevelDraft).where(ParkLevelDraft.person_id == person.id)).first()
    return {
        "park_memberships": [{"park": park.name, "since": _iso(member.since),
                              "private_updates": member.opted_out_at is None} for member, park in memberships],
        "help_replies": [{"request": f"{park.prefix}-O{request.number}", "park": park.name, "text": reply.text,
                          "photos": list(reply.photos), "files": list(reply.files or []),
                          "name_shown": not reply.anonymous,
                          "sent": _iso(reply.created_at)} for reply, request, park in replies],
        "useful_marks": [{"park": park.name, "update_sent": _iso(update.created_at), "marked": _iso(mark.created_at)}
                         for mark, update, park in useful],
        "updates_written": [{"park": park.name, "text": update.text, "name_shown": update.show_name,
                             "sent": _iso(update.created_at)} for update, park in updates],
        "requests_written": [{"request": f"{park.prefix}-O{request.number}", "park": park.name, "text": request.text,
                              "status": request.status, "sent": _iso(request.created_at)}
                             for request, park in requests],
        "park_conversation_in_progress": ({"kind": draft.kind, "step": draft.step, "data": draft.data}
                                          if draft is not None else None),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


# ---- /vergeet ---------------------------------------------------------------------------------------

def forget(session: Session, person: Person) -> None:
    """Erase the person's park-level data (see the module docstring)."""
    for scan in session.exec(select(ParkScan).where(ParkScan.status == "open", col(ParkScan.salt).is_not(None))):
        progress = session.exec(select(ScanProgress).where(
            ScanProgress.scan_id == scan.id, ScanProgress.person_hash == person_hash(scan, person.id))).first()
        if progress is not None:
            session.exec(delete(ScanAnswer).where(col(ScanAnswer.scan_id) == scan.id,
                                                  col(ScanAnswer.respondent) == progress.respondent))
            session.delete(progress)
    for table, column in ((RequestReply, RequestReply.helper_person_id), (UpdateUseful, UpdateUseful.person_id),
                          (ParkMember, ParkMember.person_id), (ParkLevelDraft, ParkLevelDraft.person_id)):
        session.exec(delete(table).where(col(column) == person.id))
    for update in session.exec(select(ParkUpdate).where(ParkUpdate.author_person_id == person.id,
                                                         col(ParkUpdate.show_name).is_(True))):
        update.show_name = False
        session.add(update)


# ---- retention --------------------------------------------------------------------------------------

def purge_expired(session: Session, park: Park, now: datetime) -> None:
    """Delete the park's help replies, useful marks and audit entries older than its retention."""
    cutoff = now - timedelta(seconds=park.retention_s)
    closed_requests = select(ParkRequest.id).where(ParkRequest.park_id == park.id, ParkRequest.status == "closed",
                                                   col(ParkRequest.closed_at) <= cutoff)
    session.exec(delete(RequestReply).where(col(RequestReply.request_id).in_(closed_requests)))
    old_updates = select(ParkUpdate.id).where(ParkUpdate.park_id == park.id, col(ParkUpdate.created_at) <= cutoff)
    session.exec(delete(UpdateUseful).where(col(UpdateUseful.update_id).in_(old_updates)))
    session.exec(delete(AdminChange).where(col(AdminChange.park_id) == park.id, col(AdminChange.created_at) <= cutoff))


def prune_stale(session: Session, prompt_cutoff: datetime, now: datetime) -> None:
    """Idle park-level conversations go like idle prompts; an update never applied loses its content."""
    session.exec(delete(ParkLevelDraft).where(col(ParkLevelDraft.updated_at) <= prompt_cutoff))
    for row in session.exec(select(InboxUpdate).where(col(InboxUpdate.applied_at).is_(None),
                                                      col(InboxUpdate.received_at) <= now - STUCK_INBOX)):
        row.payload, row.applied_at = None, now  # never handled in a week: it will not be; pruned later
        session.add(row)
