"""Matrix through matrix-nio with end-to-end encryption: events in, outbox rows out.

What it does, in the order a message travels:

- **Inbox.** The events of one sync are collected, stored in the inbox (``bot.pipeline``)
  in one transaction, and only then is the sync token saved: a crash before that syncs
  the same events again, and the inbox skips those already stored. While the database is
  unreachable the sync loop waits (the homeserver keeps the events). Events are then
  handled concurrently, in order per room and per person; ``event_id`` is the inbox key.
- **Sync.** One long-polling sync loop. The first sync after a start is a ``full_state``
  sync from the token kept in the E2EE store, so rooms are known again without replaying
  old timelines. On the very first start (no token yet) that sync's timelines are
  skipped: nothing from before the bot existed is answered. After a restart, events
  newer than the kept token (sent while the bot was down) are answered, once.
- **One syncer.** Only the leader among the instances (``bot.instances.Leadership``, a
  database lease) starts this adapter: two clients of one device would corrupt its olm
  sessions. A standby instance starts it when it takes over the leadership.
- **Start.** The bot cross-signs its own device (``matrix_cross_signing``) and sets its
  display name and avatar (``matrix_profile``) before the first sync.
- **Invites.** A room invite is accepted only from a verified admin of a park (they
  then ``!koppel`` it); a direct-chat invite (``is_direct``) from anyone, because anyone
  may report or redeem an invite code -- what they may do is decided by the handlers.
  Every other invite gets one line why, then the bot leaves. Direct chats are recorded
  in ``m.direct``.
- **Incoming.** Notices, the bot's own events and undecryptable events are ignored; the
  reply fallback is stripped first (``matrix_replies``); an edit in a direct chat gets a
  short "edits are not taken over". In rooms only ``!command`` (or ``/command``) counts.
  In a direct chat a command works with or without ``!``; an answer to the numbered
  choices of the last question (``2``, ``Anoniem``, ``anoniem``) becomes a button press,
  looked up in the outbox table so it survives restarts, and an answer to an older list
  gets the current question again; images (also encrypted ones) become a photo
  reference, ``m.location`` a location.
- **Outgoing** (``deliver``): ``m.notice`` with a plain body and sanitised HTML; rows
  for a person without a direct chat open one (encrypted, ``is_direct``, in
  ``m.direct``) and remember it. Rate limits become ``RetryAfter``, an unreachable
  homeserver ``Transient``; the outbox retries.

Device trust: the bot encrypts to every device of the people in its rooms without
interactive verification (``ignore_unverified_devices``); see the README (trust model).
"""

import asyncio
import dataclasses
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import ClientError
from nio.client.async_client import client_session
from nio import (
    AsyncClient,
    EnableEncryptionBuilder,
    InviteMemberEvent,
    RoomMemberEvent,
    JoinedMembersResponse,
    JoinResponse,
    LocalProtocolError,
    MatrixRoom,
    MegolmEvent,
    RoomCreateResponse,
    RoomMessage,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
)
from sqlmodel import Session, col, select

from bot.backoff import Backoff
from bot.config import MatrixConfig
from bot.dispatcher import DeliveryResult, Permanent, RetryAfter, Sent, Transient
from bot.matrix_cross_signing import CrossSigningError, Login, ensure_cross_signed
from bot.matrix_profile import set_profile
from bot.matrix_media import MAX_FILE_BYTES, MatrixMedia, is_matrix_photo
from bot.photo_cleaning import strip_metadata
from bot.matrix_replies import edited, own_words, replied_to
from bot.matrix_render import choice_buttons, location_content, match_choice, mention_html, message_content, parse_geo_uri
from bot.matrix_session import open_client
from bot.pipeline import Pipeline, Received
from bot.safe_logging import log_failure
from handlers import commands
from handlers.clock import Clock
from handlers.i18n import Translator
from handlers.messages import ButtonPress, Chat, Incoming, Outcome, Sender
from handlers.outbox import enqueue
from storage.db import Database, is_unavailable
from storage.models import OutboxMessage, Person, Role
from storage.queries import ADMIN

log = logging.getLogger(__name__)

PLATFORM = "matrix"
SYNC_TIMEOUT_MS = 30_000
LEADERSHIP_CHECK = 1.0  # seconds between checks while the sync is paused (leadership not renewed)
COMMAND_PREFIXES = ("!", "/")
ROOM_WAIT = 15.0
STORE_RETRY_START, STORE_RETRY_MAX = 0.5, 30.0
SYNC_RETRY_START, SYNC_RETRY_MAX = 1.0, 60.0
STOP_GRACE = 10.0
#: The purpose of the adapter's own short notices: never a question a number could answer.
TOAST = "toast"

Handle = Callable[[Incoming], Awaitable[Outcome]]


class MatrixAdapter:
    """Turns Matrix events into neutral messages and delivers outbox rows; also the handlers' port."""

    #: Rooms only pass commands to the bot, so numbered choices under a room message cannot be answered.
    group_buttons = False

    def __init__(self, config: MatrixConfig, db: Database, clock: Clock, texts: Translator, handle: Handle,
                 after_event: Callable[[], None]):
        self.config = config
        self.db = db
        self.clock = clock
        self.texts = texts
        self._handle = handle
        self._after_event = after_event
        self.client: AsyncClient | None = None
        self.media: MatrixMedia | None = None
        #: Fetches a photo of another platform (a Telegram file id) as bytes; set by the bootstrap.
        self.foreign_photos: Callable[[str], Awaitable[bytes | None]] | None = None
        #: Fetches a file of another platform (a Telegram file_id) as bytes; set by the bootstrap.
        self.foreign_files: Callable[[dict], Awaitable[bytes | None]] | None = None
        self._direct: dict[str, list[str]] = {}
        self._live = False
        self._restoring = False
        self._ready = False
        self._sync_task: asyncio.Task | None = None
        self._synced = asyncio.Condition()
        self._sync_count = 0
        self._seen = asyncio.Condition()
        self.seen_events: set[str] = set()
        self.handled_events = 0
        self._invites_done: set[str] = set()
        #: Rooms whose history the bot has caught up with: in a room it just joined,
        #: everything before its own join event is history, not something to answer.
        self._caught_up: set[str] = set()
        self._send_lock = asyncio.Lock()
        self._background: set[asyncio.Task] = set()
        self.started_at = 0.0
        self._collected: list[tuple[Received | None, str]] = []  # this sync's events (None: ignored)
        self.pipeline = Pipeline(db, clock, PLATFORM, f"{PLATFORM}:", handle, after=self._after,
                                 on_done=self._handled)
        #: Whether this instance may sync and send now: the leader with a fresh lease (set by the bootstrap).
        self.may_sync: Callable[[], bool] = lambda: True
        self._paused = False
        #: The public master key of the bot's cross-signing identity, once it is set up.
        self.master_key: str | None = None
        self._last_sync_ok = False

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.started_at = time.time()
        client = await open_client(self.config)
        self.client = client
        self.media = MatrixMedia(client)
        if client.should_upload_keys:
            await client.keys_upload()
        await self._cross_sign()
        await self._set_profile()
        client.add_event_callback(self._on_invite, (InviteMemberEvent,))
        client.add_event_callback(self._on_room_event, (RoomMessage, MegolmEvent))
        client.add_event_callback(self._on_member, (RoomMemberEvent,))
        self._direct = await self._load_direct()
        first_ever = client.loaded_sync_token is None
        # After a restart every room in the first sync was joined before: what is newer than the
        # kept token was sent while the bot was away, and is answered (once).
        self._live = self._restoring = not first_ever
        await self.pipeline.resume()
        response = await client.sync(timeout=0, full_state=True)
        if not isinstance(response, SyncResponse):
            raise RuntimeError(f"first Matrix sync failed: {response}")
        await self._take_collected(response.next_batch)
        await self._housekeeping()
        self._caught_up.update(client.rooms)
        self._live, self._restoring = True, False
        self._ready = self._last_sync_ok = True
        await self._note_sync()
        self._sync_task = asyncio.create_task(self._sync_forever(), name="matrix-sync")

    async def _cross_sign(self) -> None:
        """Sign the bot's device with its own identity, so Element trusts it; a failure is said, not fatal."""
        client = self.client
        login = Login(self.config.homeserver, client.user_id, client.device_id, client.access_token)
        try:
            self.master_key = await ensure_cross_signed(login, self.config)
        except CrossSigningError as error:
            log.error("Matrix cross-signing: %s", error)
        except (ClientError, ConnectionError, TimeoutError, OSError) as error:
            log.warning("Matrix cross-signing not done this time (%s); tried again at the next start", error)
        except Exception:  # noqa: BLE001 - an odd answer must not keep the bot from running
            log_failure(log, "Matrix cross-signing failed; tried again at the next start")

    async def _set_profile(self) -> None:
        """The display name (and avatar) people see, set only when they differ from the config."""
        await set_profile(self.client, self.config)

    async def stop(self) -> None:
        """Stop syncing and close the connection. Never logs out: that would destroy the keys."""
        self._ready = False
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._sync_task is not None:
            self._sync_task.cancel()
            await asyncio.gather(self._sync_task, return_exceptions=True)
            self._sync_task = None
        await self.pipeline.stop(STOP_GRACE)
        if self.client is not None:
            await self.client.close()
            self.client = None

    @property
    def connected(self) -> bool:
        """Started, and the last sync with the homeserver worked (for ``/readyz``)."""
        return self._ready and self._last_sync_ok

    @property
    def sending(self) -> bool:
        """Whether this instance sends Matrix rows: only the leader, which syncs the account, does."""
        return self.client is not None and self.may_sync()

    async def _sync_forever(self) -> None:
        backoff = Backoff(SYNC_RETRY_START, SYNC_RETRY_MAX)
        while True:
            if not self.may_sync():  # the leader's lease could not be renewed: another may take over
                if not self._paused:
                    log.warning("Matrix sync paused: this instance's leadership could not be renewed")
                self._paused = True
                await asyncio.sleep(LEADERSHIP_CHECK)
                continue
            self._paused = False
            try:
                response = await self.client.sync(timeout=SYNC_TIMEOUT_MS)
                if not isinstance(response, SyncResponse):
                    self._collected.clear()
                    raise ConnectionError(getattr(response, "message", str(response)))
                await self._take_collected(response.next_batch)
                await self._housekeeping()
                self._caught_up.update(self.client.rooms)
                await self._note_sync()
                backoff.reset()
                self._last_sync_ok = True
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the homeserver may be away; keep trying
                self._last_sync_ok = False
                log.warning("Matrix sync failed (%s); retrying in %.0f s", type(error).__name__, backoff.delay)
                await backoff.wait()

    async def _take_collected(self, sync_token: str) -> None:
        """Store this sync's events, then save the sync token, then hand them to the lanes."""
        collected, self._collected = self._collected, []
        batch = [received for received, _ in collected if received is not None]
        backoff = Backoff(STORE_RETRY_START, STORE_RETRY_MAX)
        while True:
            try:
                fresh = await self.pipeline.store(batch)
                break
            except Exception as error:  # noqa: BLE001
                if not is_unavailable(error):
                    raise
                log.warning("database unavailable (%s): not syncing Matrix; retrying in %.1f s",
                            type(error).__name__, backoff.delay)
                await backoff.wait()
        if self.client.store is not None and sync_token:
            self.client.store.save_sync_token(sync_token)
        fresh_keys = {received.key for received in fresh}
        for received, event_id in collected:
            if received is not None and received.key in fresh_keys:
                await self.pipeline.submit(received)
            elif received is None or received.key not in self.pipeline.queued:
                await self._mark_seen(event_id)

    async def _after(self, received: Received, outcome: Outcome) -> None:
        if outcome.toast:
            await self.db.run(lambda: self._send_toast(received.incoming, outcome.toast))

    async def _housekeeping(self) -> None:
        """The E2EE chores after each sync: to-device messages, key upload, query and claim."""
        client = self.client
        async with self._send_lock:
            await client.send_to_device_messages()
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())

    async def _note_sync(self) -> None:
        async with self._synced:
            self._sync_count += 1
            self._synced.notify_all()

    async def wait_seen(self, event_id: str, timeout: float = 15.0) -> None:
        """Wait until the event has been handled (or deliberately ignored); tests and health checks."""
        async with self._seen:
            await asyncio.wait_for(self._seen.wait_for(lambda: event_id in self.seen_events), timeout)

    async def _mark_seen(self, event_id: str) -> None:
        async with self._seen:
            self.seen_events.add(event_id)
            self._seen.notify_all()

    async def _wait_for_room(self, room_id: str, member: str | None = None) -> bool:
        """Wait until a sync shows the room (and ``member`` in it, joined or invited)."""
        def known() -> bool:
            room = self.client.rooms.get(room_id)
            return room is not None and (member is None or member in room.users)

        async with self._synced:
            try:
                await asyncio.wait_for(self._synced.wait_for(known), ROOM_WAIT)
            except TimeoutError:
                return False
        return True

    # ---- direct chats (m.direct) ----------------------------------------------------------------

    def _direct_path(self) -> str:
        return f"/_matrix/client/v3/user/{quote(self.client.user_id, safe='')}/account_data/m.direct"

    async def _load_direct(self) -> dict[str, list[str]]:
        response = await _raw_send(self.client, "GET", self._direct_path(), headers=self._auth())
        if response.status == 404:
            return {}
        body = await response.json()
        if response.status != 200 or not isinstance(body, dict):
            log.warning("could not read m.direct (%s)", response.status)
            return {}
        return {user: [room for room in rooms if isinstance(room, str)]
                for user, rooms in body.items() if isinstance(rooms, list)}

    async def _remember_direct(self, user_id: str, room_id: str) -> None:
        rooms = self._direct.setdefault(user_id, [])
        if room_id in rooms:
            return
        rooms.append(room_id)
        response = await _raw_send(self.client, "PUT", self._direct_path(), json.dumps(self._direct),
                                          headers={**self._auth(), "Content-Type": "application/json"})
        if response.status != 200:
            log.warning("could not write m.direct (%s)", response.status)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.client.access_token}"}

    def _direct_partner(self, room_id: str) -> str | None:
        for user_id, rooms in self._direct.items():
            if room_id in rooms:
                return user_id
        return None

    def _dm_usable(self, room_id: str | None, user_id: str) -> bool:
        """A room fit to be the person's private chat: the person is there and nobody but the bot.

        If someone else joins a direct chat, the bot opens a new one rather than speak in front of them.
        """
        room = self.client.rooms.get(room_id) if room_id else None
        if room is None:
            return False
        present = set(room.users) | set(room.invited_users)
        return user_id in present and present <= {user_id, self.client.user_id}

    async def _open_direct_chat(self, person: Person) -> str | None:
        """An encrypted direct chat with the person: the one they have, or a new one."""
        user_id = person.external_id
        candidates = [person.private_chat_id, *reversed(self._direct.get(user_id, []))]
        for room_id in candidates:
            if self._dm_usable(room_id, user_id):
                return room_id
        created = await self.client.room_create(
            is_direct=True, invite=[user_id], preset=RoomPreset.trusted_private_chat,
            initial_state=[EnableEncryptionBuilder().as_dict()])
        if not isinstance(created, RoomCreateResponse):
            raise _SendFailed(created)
        await self._remember_direct(user_id, created.room_id)
        # A sync can show the new room between its creation events and the invite (Synapse
        # writes the invite last). Sent then, the first message's Megolm key goes to nobody but
        # the bot, and the person can never read it: wait until the bot sees the invite too.
        if not await self._wait_for_room(created.room_id, member=user_id):
            return None
        log.info("opened a direct chat with person %s", person.id)
        return created.room_id

    def _record_direct_chat(self, row: OutboxMessage, person: Person, room_id: str) -> None:
        """The person's private chat is this room now, for this row and every row still waiting."""
        with self.db.transaction() as session:
            fresh = session.get(Person, person.id)
            old = fresh.private_chat_id
            fresh.private_chat_id = room_id
            session.add(fresh)
            chats = ["", old] if old else [""]
            for pending in session.exec(select(OutboxMessage).where(
                    OutboxMessage.platform == PLATFORM, OutboxMessage.recipient_person_id == person.id,
                    col(OutboxMessage.chat_id).in_(chats),
                    (OutboxMessage.status == "pending") | (OutboxMessage.id == row.id))):
                pending.chat_id = room_id
                session.add(pending)
        row.chat_id = room_id

    # ---- incoming -----------------------------------------------------------------------------

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key != self.client.user_id or event.membership != "invite":
            return
        if room.room_id in self._invites_done:
            return
        self._invites_done.add(room.room_id)
        inviter = event.sender
        direct = bool(event.content.get("is_direct"))
        if direct or self._is_verified_admin(inviter):
            joined = await self.client.join(room.room_id)
            if not isinstance(joined, JoinResponse):
                log.warning("could not join %s: %s", room.room_id, getattr(joined, "message", joined))
                self._invites_done.discard(room.room_id)
                return
            if direct:
                await self._remember_direct(inviter, room.room_id)
            log.info("joined %s %s", "direct chat" if direct else "room", room.room_id)
        else:
            task = asyncio.create_task(self._decline(room.room_id, inviter), name="matrix-decline")
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _decline(self, room_id: str, inviter: str) -> None:
        """Join just long enough to say in one line why the bot does not stay, then leave.

        Runs beside the sync loop: the room is usable only after a later sync has listed it.
        """
        try:
            joined = await self.client.join(room_id)
            if isinstance(joined, JoinResponse) and await self._wait_for_room(room_id):
                with Session(self.db.engine) as session:
                    person = session.exec(select(Person).where(Person.platform == PLATFORM,
                                                               Person.external_id == inviter)).first()
                texts = self.texts.on(PLATFORM)
                reason = texts(texts.language_for(person.language if person else None), "matrix.invite_declined")
                async with self._send_lock:
                    await self._send(room_id, message_content(reason, []), f"decline-{room_id}")
        except (_SendFailed, LocalProtocolError, ClientError, TimeoutError, OSError) as error:
            log.info("could not explain the declined invite (%s)", type(error).__name__)
        finally:
            await self.client.room_leave(room_id)
            log.info("declined an invite to %s from someone who is not a verified admin", room_id)

    def _is_verified_admin(self, user_id: str) -> bool:
        with Session(self.db.engine) as session:
            return session.exec(
                select(Role.id).join(Person, col(Person.id) == col(Role.person_id))
                .where(Person.platform == PLATFORM, Person.external_id == user_id, Role.role == ADMIN,
                       col(Role.revoked_at).is_(None))).first() is not None

    async def _on_member(self, room: MatrixRoom, event: RoomMemberEvent) -> None:
        if event.state_key == self.client.user_id and event.membership == "join":
            self._caught_up.add(room.room_id)

    async def _on_room_event(self, room: MatrixRoom, event: RoomMessage | MegolmEvent) -> None:
        """Collect the event for this sync's inbox batch (``_take_collected`` stores and handles it)."""
        self._collected.append((self._received(room, event), event.event_id))

    def _received(self, room: MatrixRoom, event: RoomMessage | MegolmEvent) -> Received | None:
        if not self._live or event.sender == self.client.user_id \
                or not (self._restoring or room.room_id in self._caught_up):
            return None
        if isinstance(event, MegolmEvent):
            log.warning("could not decrypt an event in %s (session %s)", room.room_id, event.session_id)
            return None
        try:
            incoming = self.to_incoming(room, event)
        except Exception:  # noqa: BLE001 - an event we cannot read must not stop the others
            log_failure(log, "could not read a Matrix event")
            return None
        if incoming is None:
            return None
        return Received(incoming=dataclasses.replace(incoming, update_key=f"{PLATFORM}:{event.event_id}"),
                        extra={"event_id": event.event_id})

    async def _handled(self, received: Received) -> None:
        self.handled_events += 1
        self._after_event()
        await self._mark_seen(received.extra["event_id"])

    def to_incoming(self, room: MatrixRoom, event: RoomMessage) -> Incoming | None:
        content = own_words(event.source.get("content", {}))
        msgtype = content.get("msgtype")
        if msgtype == "m.notice":
            return None
        partner = self._direct_partner(room.room_id)
        private = partner is not None
        if private and partner != event.sender:
            return None  # somebody else in a person's direct chat: not theirs to use
        if edited(content) is not None:
            if private:  # in a room an edit is chatter; in a direct chat the person expects an effect
                self._answer(room.room_id, event.sender, "matrix.edit_ignored")
            return None
        sender = Sender(platform=PLATFORM, external_id=event.sender,
                        display_name=room.user_name(event.sender) or event.sender,
                        username=event.sender.lstrip("@"))
        chat = Chat(platform=PLATFORM, chat_id=room.room_id, is_private=private,
                    title=room.display_name if not private else "")
        if msgtype == "m.text" or msgtype == "m.emote":
            text = str(content.get("body", "")).strip()
            return self._text_incoming(sender, chat, text, replied_to(content))
        if not private:
            return None
        if msgtype == "m.image":
            return Incoming(sender=sender, chat=chat, photo=MatrixMedia.reference(content), caption=_caption(content))
        if msgtype in ("m.file", "m.video"):
            return Incoming(sender=sender, chat=chat, file=MatrixMedia.shared_file(content))
        if msgtype == "m.location":
            location = parse_geo_uri(str(content.get("geo_uri", "")))
            if location is not None:
                return Incoming(sender=sender, chat=chat, location=location)
        return Incoming(sender=sender, chat=chat, unsupported=True)

    def _text_incoming(self, sender: Sender, chat: Chat, text: str, reply_to: str | None = None) -> Incoming | None:
        command, args = _command(text)
        if command is not None:
            return Incoming(sender=sender, chat=chat, text=text, command=command, args=args)
        if not chat.is_private:
            return None  # ordinary room chatter is none of the bot's business
        questions = self._recent_questions(chat.chat_id)
        current = questions[0] if questions else None
        if current is not None and _answers_an_older_list(text, reply_to, questions):
            self._repeat_question(chat.chat_id, sender.external_id, current)
            return None
        data = match_choice(text, current.choices if current else [])
        if data is not None:
            return Incoming(sender=sender, chat=chat, press=ButtonPress(data=data))
        head, _, rest = text.partition(" ")
        word = head.lower()
        # Said without ``!``, a command word on its own is a command (with arguments ``!`` is needed, so
        # report text that happens to start with such a word is never taken for a command).
        if word in commands.bare_words() and (not rest.strip() or word == "start"):
            return Incoming(sender=sender, chat=chat, text=text, command=word, args=rest.strip())
        return Incoming(sender=sender, chat=chat, text=text)

    def _recent_questions(self, room_id: str) -> list[OutboxMessage]:
        """The last messages sent to this chat that a person answers, newest first.

        Photos, the extra parts of a delivery and toasts are not questions.
        """
        with Session(self.db.engine) as session:
            rows = session.exec(
                select(OutboxMessage).where(OutboxMessage.platform == PLATFORM, OutboxMessage.chat_id == room_id,
                                            OutboxMessage.status == "sent")
                .order_by(col(OutboxMessage.id).desc()).limit(25))
            return [row for row in rows
                    if row.text is not None and not row.photo and not row.attachment_kind
                    and row.purpose not in ("delivery_extra", TOAST)][:10]

    def _repeat_question(self, room_id: str, user_id: str, current: OutboxMessage) -> None:
        """An answer to an older list: say so, and ask the current question again."""
        try:
            with self.db.transaction() as session:
                self._enqueue_answer(session, room_id, user_id, "matrix.stale_choice")
                now = self.clock.now()
                session.add(OutboxMessage(platform=PLATFORM, chat_id=room_id, text=current.text,
                                          choices=list(current.choices or []), purpose="reply",
                                          report_id=current.report_id,
                                          recipient_person_id=current.recipient_person_id,
                                          next_attempt_at=now, created_at=now))
        except Exception:  # noqa: BLE001
            log_failure(log, "could not queue the repeated question")

    def _answer(self, room_id: str, user_id: str, key: str) -> None:
        """A short notice of the adapter's own (edits, stale answers), in the person's language."""
        try:
            with self.db.transaction() as session:
                self._enqueue_answer(session, room_id, user_id, key)
        except Exception:  # noqa: BLE001
            log_failure(log, "could not queue an answer")

    def _enqueue_answer(self, session: Session, room_id: str, user_id: str, key: str) -> None:
        person = session.exec(select(Person).where(Person.platform == PLATFORM,
                                                   Person.external_id == user_id)).first()
        texts = self.texts.on(PLATFORM)
        text = texts(texts.language_for(person.language if person else None), key)
        enqueue(session, now=self.clock.now(), platform=PLATFORM, chat_id=room_id, text=text, purpose=TOAST)

    def _send_toast(self, incoming: Incoming, toast: str) -> None:
        """What Telegram shows as a small pop-up after a button press is a short notice here."""
        try:
            with self.db.transaction() as session:
                enqueue(session, now=self.clock.now(), platform=PLATFORM, chat_id=incoming.chat.chat_id, text=toast,
                        purpose=TOAST)
        except Exception:  # noqa: BLE001
            log_failure(log, "could not queue a toast")

    # ---- the handlers' port --------------------------------------------------------------------

    async def is_group_member(self, chat_id: str, user_id: str) -> bool:
        try:
            response = await self.client.joined_members(chat_id)
        except (ClientError, TimeoutError, OSError) as error:
            log.info("membership check failed: %s", type(error).__name__)
            return False
        if not isinstance(response, JoinedMembersResponse):
            return False
        return any(member.user_id == user_id for member in response.members)

    def private_chat_link(self, payload: str) -> str | None:
        """Matrix has no link that opens a direct chat with a payload: the bot opens it itself."""
        return None

    @staticmethod
    def mention_html(user_id: str, display_name: str) -> str:
        return mention_html(user_id, display_name)

    async def fetch_photo(self, reference: str) -> bytes | None:
        """The bytes of a Matrix photo reference (decrypted, metadata stripped), for another platform to upload."""
        data = await self.media.download(reference) if self.media else None
        cleaned = strip_metadata(data) if data is not None else None
        return cleaned[0] if cleaned else None

    # ---- outgoing --------------------------------------------------------------------------------

    async def deliver(self, row: OutboxMessage) -> DeliveryResult:
        if not self._ready:
            return Transient("Matrix not connected")
        try:
            room_id = await self._room_for(row)
            if room_id is None:
                return Transient("room not known yet")
            async with self._send_lock:
                event_id = await self._send_row(row, room_id)
        except _SendFailed as failed:
            return failed.result
        except LocalProtocolError as error:
            return Transient(f"local: {error}"[:255])
        except (ClientError, TimeoutError, OSError) as error:
            return Transient(f"network: {type(error).__name__}")
        return Sent(event_id)

    async def _room_for(self, row: OutboxMessage) -> str | None:
        if row.recipient_person_id is None:
            if row.chat_id in self.client.rooms:
                return row.chat_id
            if row.chat_id in self.client.invited_rooms or not row.chat_id:
                return None
            raise _SendFailed(Permanent("the bot is not in this room"))
        with Session(self.db.engine) as session:
            person = session.get(Person, row.recipient_person_id)
        if person is None or person.platform != PLATFORM:
            raise _SendFailed(Permanent("no such Matrix person"))
        if row.chat_id and self._dm_usable(row.chat_id, person.external_id):
            return row.chat_id
        room_id = await self._open_direct_chat(person)
        if room_id is not None and room_id != row.chat_id:
            self._record_direct_chat(row, person, room_id)
        return room_id

    async def _send_row(self, row: OutboxMessage, room_id: str) -> str:
        if row.file is not None:
            if row.text:
                await self._send(room_id, message_content(row.text, []), f"w{row.id}-caption")
            return await self._send(room_id, await self._file_content(row.file, room_id), f"w{row.id}-file")
        if row.attachment is not None:
            if row.text:
                await self._send(room_id, message_content(row.text, []), f"w{row.id}-caption")
            content = await self.media.upload_file(
                row.attachment, encrypted=self.client.rooms[room_id].encrypted,
                mimetype=row.attachment_mime or "application/octet-stream", filename=row.attachment_name or "weerbaar",
                msgtype="m.image" if row.attachment_kind == "image" else "m.file")
            if content is None:
                raise _SendFailed(Transient("upload failed"))
            return await self._send(room_id, content, f"w{row.id}-file")
        if row.photo:
            if row.text:
                await self._send(room_id, message_content(row.text, []), f"w{row.id}-caption")
            content = await self._image_content(row, room_id)
            return await self._send(room_id, content, f"w{row.id}-image")
        if row.latitude is not None and row.longitude is not None:
            return await self._send(room_id, location_content(row.latitude, row.longitude, row.text), f"w{row.id}")
        return await self._send(room_id, message_content(row.text, row.choices, self._hint(row)), f"w{row.id}")

    async def _file_content(self, shared: dict, room_id: str) -> dict:
        """A person's file or video: its own event content again when it is a Matrix file, else uploaded.

        Re-uploaded instead: a file of the other platform; an image (cleaned of metadata, as photos);
        an encrypted file for a room without encryption (its key must not travel in the clear).
        """
        encrypted_room = self.client.rooms[room_id].encrypted
        image = shared["mime"].startswith("image/")
        if is_matrix_photo(shared["ref"]):
            if not image and (encrypted_room or not json.loads(shared["ref"]).get("file")):
                return MatrixMedia.file_content(shared)
            data = await self.media.download(shared["ref"], limit=MAX_FILE_BYTES)
        else:
            data = await self.foreign_files(shared) if self.foreign_files is not None else None
        if data is None:
            raise _SendFailed(Transient("could not fetch the file"))
        mimetype = shared["mime"]
        if image:
            cleaned = strip_metadata(data)
            if cleaned is None:
                raise _SendFailed(Permanent("the image file cannot be cleaned of metadata"))
            data, mimetype = cleaned
        content = await self.media.upload_file(data, encrypted=encrypted_room, mimetype=mimetype,
                                               filename=shared["name"] or "bestand",
                                               msgtype="m.video" if shared["kind"] == "video" else "m.file")
        if content is None:
            raise _SendFailed(Transient("file upload failed"))
        return content

    async def fetch_file(self, shared: dict) -> bytes | None:
        """The bytes of a Matrix file (decrypted; an image cleaned of metadata), for another platform to upload."""
        data = await self.media.download(shared["ref"], limit=MAX_FILE_BYTES) if self.media else None
        if data is None or not shared["mime"].startswith("image/"):
            return data
        cleaned = strip_metadata(data)
        return cleaned[0] if cleaned else None

    async def _image_content(self, row: OutboxMessage, room_id: str) -> dict:
        encrypted = self.client.rooms[room_id].encrypted
        mimetype = "image/jpeg"
        if is_matrix_photo(row.photo):  # re-sent from its pixels only: a Matrix file keeps its EXIF/GPS
            data = await self.media.download(row.photo)
            if data is None:
                raise _SendFailed(Transient("could not fetch the photo"))
            cleaned = strip_metadata(data)
            if cleaned is None:
                raise _SendFailed(Permanent("the photo is no image that can be cleaned of metadata"))
            data, mimetype = cleaned
        else:  # a Telegram photo: Telegram recompressed it and dropped its metadata already
            if self.foreign_photos is None:
                raise _SendFailed(Permanent("a photo from another platform and no way to fetch it"))
            data = await self.foreign_photos(row.photo)
            if data is None:
                raise _SendFailed(Transient("could not fetch the photo from the other platform"))
        uploaded = await self.media.upload_image(data, encrypted=encrypted, mimetype=mimetype)
        if uploaded is None:
            raise _SendFailed(Transient("photo upload failed"))
        return uploaded

    async def _send(self, room_id: str, content: dict, transaction_id: str) -> str:
        """One event; the transaction id makes a retry after a lost answer a no-op on the server."""
        await self._know_devices(room_id)
        response = await self.client.room_send(room_id, "m.room.message", content, tx_id=transaction_id,
                                               ignore_unverified_devices=True)
        if isinstance(response, RoomSendResponse):
            return response.event_id
        raise _SendFailed(response)

    async def _know_devices(self, room_id: str) -> None:
        """Query the device keys nio still waits for before encrypting for the room.

        A member (an invited one too) seen by a sync whose housekeeping has not run yet would
        otherwise get no Megolm key for this message: nio queries keys itself only the first
        time it fetches a room's member list.
        """
        room = self.client.rooms.get(room_id)
        if room is not None and room.encrypted and self.client.should_query_keys:
            await self.client.keys_query()

    def _hint(self, row: OutboxMessage) -> str | None:
        if not any(button.get("data") for line in row.choices or [] for button in line):
            return None
        language = None
        if row.recipient_person_id is not None:
            with Session(self.db.engine) as session:
                person = session.get(Person, row.recipient_person_id)
                language = person.language if person else None
        return str(self.texts.on(PLATFORM)(self.texts.language_for(language), "matrix.choose_hint"))


#: ``AsyncClient.send`` (a raw request) with nio's HTTP session created on first use.
_raw_send = client_session(AsyncClient.send)


class _SendFailed(Exception):
    """A homeserver answer that is not success, already turned into a delivery result."""

    def __init__(self, response_or_result):
        super().__init__(str(response_or_result))
        if isinstance(response_or_result, (Sent, RetryAfter, Transient, Permanent)):
            self.result = response_or_result
        else:
            self.result = _result_of_error(response_or_result)


def _result_of_error(response) -> DeliveryResult:
    code = getattr(response, "status_code", None)
    message = getattr(response, "message", "") or ""
    if code == "M_LIMIT_EXCEEDED":
        retry_ms = getattr(response, "retry_after_ms", None) or 5000
        return RetryAfter(retry_ms / 1000)
    transport = getattr(response, "transport_response", None)
    status = getattr(transport, "status", None)
    if code in ("M_FORBIDDEN", "M_NOT_FOUND", "M_BAD_JSON", "M_TOO_LARGE") and (status is None or status < 500):
        return Permanent(f"{code}: {message}"[:255])
    return Transient(f"{code or status}: {message}"[:255])


def _answers_an_older_list(text: str, reply_to: str | None, questions: list[OutboxMessage]) -> bool:
    """A choice of an earlier numbered list: a reply to an older question, or a bare number
    while the current question has no list and the one before it had one."""
    current = questions[0]
    if reply_to is not None and reply_to != current.platform_message_id:
        older = next((row for row in questions[1:] if row.platform_message_id == reply_to), None)
        if older is not None and match_choice(text, older.choices) is not None:
            return True
    if re.fullmatch(r"\s*\d{1,3}\s*[.)]?\s*", text) and not choice_buttons(current.choices) and len(questions) > 1:
        return match_choice(text, questions[1].choices) is not None
    return False


def _command(text: str) -> tuple[str | None, str]:
    """``!melden``, ``/koppel spaanse-polder`` → (command, args); anything else → (None, "")."""
    if not text or text[0] not in COMMAND_PREFIXES or len(text) < 2 or text[1] in COMMAND_PREFIXES:
        return None, ""
    head, _, args = text[1:].partition(" ")
    name = head.strip().lower()
    return (name, args.strip()) if name.isalnum() else (None, "")



def _caption(content: dict) -> str | None:
    """An image's caption: with a separate ``filename``, ``body`` is the caption (MSC2530)."""
    body, filename = content.get("body"), content.get("filename")
    if isinstance(body, str) and isinstance(filename, str) and body.strip() and body != filename:
        return body.strip()
    return None
