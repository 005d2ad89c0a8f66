"""Telegram through python-telegram-bot: updates in through the inbox, outbox rows out.

The adapter polls ``getUpdates`` itself rather than through PTB's ``Updater``, because the
Updater acknowledges updates as soon as it has fetched them. Here a batch is first stored
in the inbox (``bot.pipeline``), and only then acknowledged by the next ``getUpdates``
offset: a crash at any point loses nothing, and a redelivered update is skipped. When the
database is unreachable the poller stops taking updates and tries again; Telegram keeps
them. Updates are then handled concurrently, in order per chat and per person.

Only one process may poll a bot token: the poller holds a lease row in the database
(``bot.single_instance``) and a second instance exits with a clear message; if another
process polls the same token anyway, the Bot API answers 409 Conflict and this one stops.

Webhook mode (``telegram.mode = "webhook"``, ``bot.telegram_webhook``): Telegram POSTs each
update; it is stored in the inbox and answered 200 only after the commit. Any number of
instances may run behind a load balancer: at start each one calls ``setWebhook`` (the same
URL, ``secret_token``, ``allowed_updates`` and ``max_connections``: setting it again is
harmless) and none deletes it when it stops, since the others go on. The inbox keeps the
order per chat across instances (``bot.pipeline.SharedInbox``). Switching back to polling:
the poller's start calls ``deleteWebhook``.

Timeouts are deliberate: a send may take up to ``READ_TIMEOUT`` seconds to be answered
before it counts as failed (PTB's default of 5 s turned slow answers into duplicates);
a send that timed out may still have been delivered, and the outbox then sends it again:
Telegram offers no way to detect it, so this rare duplicate is accepted (see README).
"""

import asyncio
import dataclasses
import html
import logging
import re
import warnings
from collections.abc import Awaitable, Callable

import httpx
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.warnings import PTBDeprecationWarning
from telegram.error import (
    BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError,
)
from telegram.ext import Application, ApplicationBuilder
from telegram.request import HTTPXRequest

from bot.backoff import Backoff
from bot.config import TelegramConfig
from bot.dispatcher import DeliveryResult, Permanent, Redirect, Sent, Transient
from bot.dispatcher import RetryAfter as Retry
from bot.pipeline import Pipeline, Received, SharedInbox
from bot.safe_logging import log_failure
from bot.single_instance import InstanceLease
from bot.telegram_requests import SpreadHTTPXRequest
from handlers.clock import Clock
from handlers.messages import ButtonPress, Chat, Incoming, Outcome, Sender, SharedFile
from storage.db import Database, is_unavailable
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

PLATFORM = "telegram"
PAYLOAD_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Bot API upload limits: a photo at most 10 MB (larger images go as a document), any file at most 50 MB.
MAX_PHOTO_UPLOAD = 10 * 1024 * 1024
MAX_FILE_UPLOAD = 50 * 1024 * 1024
MEMBER_STATUSES = {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}
#: Edits are taken only to answer them in a private chat: an edit never changes what was sent.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
POLL_TIMEOUT = 10  # seconds a getUpdates long poll waits for news
CONNECT_TIMEOUT, READ_TIMEOUT, WRITE_TIMEOUT, POOL_TIMEOUT = 5.0, 30.0, 30.0, 10.0
#: Bot API calls in flight: POOLS connection pools of CONNECTIONS each (``bot.telegram_requests``;
#: more calls wait their turn in a semaphore, not in httpcore's pool). httpcore's pool looks at
#: every open connection (a system call each) whenever a call starts or ends, so one pool's cost
#: per call grows with its size: one pool of 64 cost ~40% of the bot's CPU under load, one of 48
#: three times the CPU of one of 16. Small pools side by side carry as many calls for less:
#: with 50 people filing reports at once over a 50 ms round trip, one pool of 16 kept their
#: replies waiting for connections (bench/pipeline.py: 5.6 s, 2.5 s of CPU); 8 pools of 8 took
#: 4.5 s for 2.2 s of CPU, 3 of 16 4.8-5.0 s, 16 of 8 4.3-4.9 s. The long poll has a connection
#: of its own.
CONNECTIONS = 8
POOLS = 8
RETRY_START, RETRY_MAX = 0.5, 30.0
STOP_GRACE = 10.0

Handle = Callable[[Incoming], Awaitable[Outcome]]


class TelegramAdapter:
    """Turns updates into neutral messages and delivers outbox rows; also the handlers' port."""

    def __init__(self, config: TelegramConfig, db: Database, clock: Clock, handle: Handle,
                 after_update: Callable[[], None], on_fatal: Callable[[str], None] | None = None,
                 shared: SharedInbox | None = None):
        timeouts = {"connect_timeout": CONNECT_TIMEOUT, "write_timeout": WRITE_TIMEOUT, "pool_timeout": POOL_TIMEOUT,
                    # one TLS context for every client: each would load the CA store again (~20 ms, 1 MiB)
                    "httpx_kwargs": {"verify": httpx.create_ssl_context()}}
        polling = HTTPXRequest(connection_pool_size=1, read_timeout=POLL_TIMEOUT + READ_TIMEOUT, **timeouts)
        builder: ApplicationBuilder = (
            ApplicationBuilder().token(config.token).updater(None).get_updates_request(polling)
            .request(SpreadHTTPXRequest(pools=POOLS, connections_per_pool=CONNECTIONS, read_timeout=READ_TIMEOUT,
                                        **timeouts)))
        if config.base_url:
            builder = builder.base_url(config.base_url)
        if config.base_file_url:
            builder = builder.base_file_url(config.base_file_url)
        self.application: Application = builder.build()
        self.username = config.bot_username
        self.bot_id = config.token.partition(":")[0]
        self.db = db
        self.clock = clock
        self._handle = handle
        self._after_update = after_update
        self._on_fatal = on_fatal or (lambda message: None)
        self.handled_updates = 0
        self._handled = asyncio.Condition()
        self.config = config
        self.webhook = None
        #: Told the result of each webhook request (stored, forbidden, bad_request, unavailable, failed).
        self.on_webhook_request: Callable[[str], None] | None = None
        if config.mode == "webhook" and shared is None:
            raise ValueError("webhook mode needs the shared inbox (several instances)")
        self.pipeline = Pipeline(db, clock, PLATFORM, f"{PLATFORM}:{self.bot_id}:", handle,
                                 after=self._after, on_done=self._done,
                                 shared=shared if config.mode == "webhook" else None)
        self.lease = InstanceLease(db, clock, f"telegram-poller:{self.bot_id}")
        self._offset: int | None = None
        self._poller: asyncio.Task | None = None
        self._running = False
        #: Fetches a photo of another platform (a Matrix reference) as bytes; set by the bootstrap.
        self.foreign_photos: Callable[[str], Awaitable[bytes | None]] | None = None
        #: Fetches a file of another platform (a Matrix file reference) as bytes; set by the bootstrap.
        self.foreign_files: Callable[[dict], Awaitable[bytes | None]] | None = None

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Take the poller lease (or raise ``AnotherInstance``), resume the inbox, start polling."""
        if self.config.mode == "webhook":
            await self._start_webhook()
            return
        await self.lease.acquire()
        await self.application.initialize()
        self.username = self.application.bot.username
        await self.application.bot.delete_webhook(drop_pending_updates=False)
        self._running = True
        await self.pipeline.resume()
        self._poller = asyncio.create_task(self._poll_forever(), name="telegram-poller")

    async def _start_webhook(self) -> None:
        """Listen, take over what stopped instances left, then tell Telegram where to post."""
        from bot.telegram_webhook import WebhookServer

        hook = self.config.webhook
        await self.application.initialize()
        self.username = self.application.bot.username
        self.webhook = WebhookServer(hook, self._take_posted, count=self._count_webhook_request)
        await self.webhook.start()
        self._running = True
        await self.pipeline.resume()
        try:
            await self.application.bot.set_webhook(url=hook.url, secret_token=hook.secret,
                                                   allowed_updates=ALLOWED_UPDATES,
                                                   max_connections=hook.max_connections)
        except BadRequest as error:
            self._fatal(f"Telegram refused the webhook ({error.message}); check telegram.webhook_url and "
                        "telegram.webhook_secret_env")
        except InvalidToken:
            self._fatal("Telegram refused the bot token (401); check telegram.token_env")

    def _count_webhook_request(self, result: str) -> None:
        if self.on_webhook_request is not None:
            self.on_webhook_request(result)

    async def _take_posted(self, raw_updates: list[dict]) -> None:
        """Webhook requests: store them in the inbox (raises when the database is away), then queue them."""
        updates, unreadable = [], 0
        for raw in raw_updates:
            try:
                update = Update.de_json(raw, self.application.bot)
            except Exception:  # noqa: BLE001 - one update we cannot read must not hold back the others
                update = None
            if update is None:
                log.warning("could not read webhook update %s", raw.get("update_id"))
                unreadable += 1
            else:
                updates.append(update)
        await self._take(updates, store_once=True)
        if unreadable:
            await self._count_handled(unreadable)

    async def stop(self) -> None:
        self._running = False
        if self.webhook is not None:  # the webhook stays set: the other instances go on
            await self.webhook.stop()
            await self.pipeline.stop(STOP_GRACE)
            await self.application.shutdown()
            return
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        await self.pipeline.stop(STOP_GRACE)
        await self._acknowledge()
        await self.lease.release()
        await self.application.shutdown()

    @property
    def connected(self) -> bool:
        """Started and taking updates (for ``/readyz``)."""
        if self.webhook is not None:
            return self._running and self.webhook.running
        return self._running and self._poller is not None and not self._poller.done()

    async def wait_handled(self, count: int, timeout: float = 10.0) -> None:
        """Wait until ``count`` updates have been handled (tests and health checks)."""
        async with self._handled:
            await asyncio.wait_for(self._handled.wait_for(lambda: self.handled_updates >= count), timeout)

    async def _done(self, _received: Received) -> None:
        await self._count_handled()

    async def _count_handled(self, count: int = 1) -> None:
        self._after_update()
        async with self._handled:
            self.handled_updates += count
            self._handled.notify_all()

    # ---- incoming: poll, store, acknowledge, handle -------------------------------------------------

    async def _poll_forever(self) -> None:
        backoff = Backoff(RETRY_START, RETRY_MAX)
        while self._running:
            try:
                updates = await self.application.bot.get_updates(
                    offset=self._offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES)
            except Conflict:
                self._fatal("another process is polling this bot token (Telegram answered 409 Conflict); "
                            "only one may. This one stops.")
                return
            except InvalidToken:
                self._fatal("Telegram refused the bot token (401); check telegram.token_env")
                return
            except (NetworkError, TelegramError) as error:
                log.warning("getUpdates failed (%s); retrying in %.1f s", type(error).__name__, backoff.delay)
                await backoff.wait()
                continue
            if updates:
                try:
                    await self._take(updates)
                except Exception:  # noqa: BLE001 - not acknowledged: the same batch comes again
                    log_failure(log, "taking a batch of Telegram updates failed")
                    await backoff.wait()
                    continue
            backoff.reset()

    async def _take(self, updates: list[Update], store_once: bool = False) -> None:
        """Store the batch, then acknowledge it (the next offset), then hand it to the lanes.

        ``store_once`` (webhook mode): when the database is away, raise at once (the request
        answers 503 and Telegram sends it again) instead of waiting here.
        """
        batch: list[Received] = []
        ignored = 0
        for update in updates:
            received = self._received(update)
            if received is None:
                ignored += 1
            else:
                batch.append(received)
        fresh = await (self.pipeline.store(batch) if store_once else self._store(batch))
        if not store_once:
            self._offset = updates[-1].update_id + 1
        for received in fresh:
            await self.pipeline.submit(received)
        if ignored:
            await self._count_handled(ignored)

    async def _store(self, batch: list[Received]) -> list[Received]:
        """Store in the inbox; while the database is unreachable, take no more updates and retry."""
        backoff = Backoff(RETRY_START, RETRY_MAX)
        while True:
            try:
                return await self.pipeline.store(batch)
            except Exception as error:  # noqa: BLE001
                if not is_unavailable(error):
                    raise
                log.warning("database unavailable (%s): not taking Telegram updates; retrying in %.1f s",
                            type(error).__name__, backoff.delay)
                await backoff.wait()

    async def _acknowledge(self) -> None:
        """Confirm the stored updates to Telegram before stopping, so they are not sent again."""
        if self._offset is None:
            return
        try:
            await self.application.bot.get_updates(offset=self._offset, timeout=0, limit=1,
                                                   allowed_updates=ALLOWED_UPDATES)
        except TelegramError as error:
            log.info("could not confirm the last updates (%s); they are skipped when redelivered",
                     type(error).__name__)

    def _fatal(self, message: str) -> None:
        log.error(message)
        self._running = False
        self._on_fatal(message)

    def _received(self, update: Update) -> Received | None:
        try:
            incoming = self.to_incoming(update)
        except Exception:  # noqa: BLE001 - an update we cannot read must not stop the others
            log.warning("could not read update %s", update.update_id)
            return None
        if incoming is None:
            return None
        incoming = dataclasses.replace(incoming, update_key=f"{PLATFORM}:{self.bot_id}:{update.update_id}")
        extra = {"callback_query_id": update.callback_query.id} if update.callback_query else {}
        return Received(incoming=incoming, extra=extra)

    async def _after(self, received: Received, outcome: Outcome) -> None:
        self._after_update()  # the answers are in the outbox: send them while the button is answered
        query_id = received.extra.get("callback_query_id")
        if query_id:
            try:
                await self.application.bot.answer_callback_query(
                    query_id, text=plain_text(outcome.toast)[:200] if outcome.toast else None)
            except TelegramError as error:
                log.info("could not answer a callback query: %s", type(error).__name__)

    def to_incoming(self, update: Update) -> Incoming | None:
        if update.callback_query is not None:
            query = update.callback_query
            message = query.message
            if message is None or query.data is None:
                return None
            return Incoming(sender=self._sender(query.from_user), chat=self._chat(message.chat),
                            press=ButtonPress(data=query.data, message_id=str(message.message_id)))
        if update.edited_message is not None:
            edit = update.edited_message
            if edit.from_user is None or edit.from_user.is_bot or edit.chat.type != "private":
                return None  # in a group an edit is chatter
            return Incoming(sender=self._sender(edit.from_user), chat=self._chat(edit.chat), edited=True)
        message = update.message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return None
        chat = self._chat(message.chat)
        sender = self._sender(message.from_user)
        if message.migrate_to_chat_id:
            return Incoming(sender=sender, chat=chat, migrated_to_chat_id=str(message.migrate_to_chat_id))
        if message.text is not None:
            command, args = self._command(message)
            if command is None and not chat.is_private:
                return None
            return Incoming(sender=sender, chat=chat, text=message.text, command=command, args=args)
        if not chat.is_private:
            return None
        if message.location is not None:
            return Incoming(sender=sender, chat=chat, location=(message.location.latitude, message.location.longitude))
        if message.photo:
            return Incoming(sender=sender, chat=chat, photo=message.photo[-1].file_id, caption=message.caption)
        shared = _shared_file(message)
        if shared is not None:
            return Incoming(sender=sender, chat=chat, file=shared, caption=message.caption)
        return Incoming(sender=sender, chat=chat, unsupported=True)

    def _command(self, message: Message) -> tuple[str | None, str]:
        text = message.text or ""
        if not text.startswith("/"):
            return None, ""
        head, _, args = text.partition(" ")
        name, _, addressee = head[1:].partition("@")
        if addressee and self.username and addressee.lower() != self.username.lower():
            return None, ""
        return (name.lower(), args.strip()) if name else (None, "")

    @staticmethod
    def _sender(user) -> Sender:
        return Sender(platform=PLATFORM, external_id=str(user.id), display_name=user.full_name,
                      username=user.username, language_code=user.language_code)

    @staticmethod
    def _chat(chat) -> Chat:
        return Chat(platform=PLATFORM, chat_id=str(chat.id), is_private=chat.type == "private",
                    title=chat.title or "")

    # ---- the handlers' port --------------------------------------------------------------------

    async def is_group_member(self, chat_id: str, user_id: str) -> bool:
        try:
            member = await self.application.bot.get_chat_member(chat_id=int(chat_id), user_id=int(user_id))
        except TelegramError as error:
            log.info("membership check failed: %s", type(error).__name__)
            return False
        return member.status in MEMBER_STATUSES or bool(getattr(member, "is_member", False))

    def private_chat_link(self, payload: str) -> str | None:
        if not self.username or not PAYLOAD_PATTERN.match(payload):
            return None
        return f"https://t.me/{self.username}?start={payload}"

    # ---- outgoing --------------------------------------------------------------------------------

    async def deliver(self, row: OutboxMessage) -> DeliveryResult:
        if not row.chat_id:
            return Permanent("no private chat with this person")
        bot = self.application.bot
        markup = self._markup(row.choices)
        photo = row.photo
        if photo and photo.startswith("{"):  # another platform's photo reference (Matrix)
            photo = await self.foreign_photos(photo) if self.foreign_photos else None
            if photo is None:
                return Transient("could not fetch the photo from the other platform")
        if row.attachment is not None and len(row.attachment) > MAX_FILE_UPLOAD:
            return Permanent("attachment larger than Telegram accepts")
        try:
            if row.file is not None:
                return await self._send_shared_file(row, markup)
            if row.attachment is not None:
                message = await self._send_attachment(row, markup)
            elif photo:
                message = await bot.send_photo(chat_id=int(row.chat_id), photo=photo, caption=row.text,
                                               parse_mode=ParseMode.HTML, reply_markup=markup)
            elif row.latitude is not None and row.longitude is not None:
                message = await bot.send_location(chat_id=int(row.chat_id), latitude=row.latitude,
                                                  longitude=row.longitude, reply_markup=markup)
            else:
                message = await bot.send_message(chat_id=int(row.chat_id), text=row.text, parse_mode=ParseMode.HTML,
                                                 reply_markup=markup, disable_web_page_preview=True)
        except RetryAfter as error:
            return Retry(_seconds(error))
        except ChatMigrated as error:
            return Redirect(str(error.new_chat_id))
        except Forbidden as error:
            return Permanent(f"forbidden: {error.message}"[:255])
        except BadRequest as error:
            return Permanent(f"bad request: {error.message}"[:255])
        except NetworkError as error:
            return Transient(f"network: {type(error).__name__}")
        except TelegramError as error:
            return Transient(type(error).__name__)
        return Sent(str(message.message_id))

    async def _send_attachment(self, row: OutboxMessage, markup) -> Message:
        """A file made by the bot (a chart, a CSV) as an upload; the text is its caption."""
        bot = self.application.bot
        upload = InputFile(row.attachment, filename=row.attachment_name or "weerbaar")
        if row.attachment_kind == "image" and len(row.attachment) <= MAX_PHOTO_UPLOAD:
            return await bot.send_photo(chat_id=int(row.chat_id), photo=upload, caption=row.text,
                                        parse_mode=ParseMode.HTML, reply_markup=markup)
        return await bot.send_document(chat_id=int(row.chat_id), document=upload, caption=row.text,
                                       parse_mode=ParseMode.HTML, reply_markup=markup)

    async def _send_shared_file(self, row: OutboxMessage, markup) -> DeliveryResult:
        """A person's file or video: by its file_id when it is Telegram's, else fetched and uploaded.

        Errors propagate to ``deliver``, which turns them into results (only the caller catches).
        """
        shared, bot = row.file, self.application.bot
        reference: str | InputFile = shared["ref"]
        if reference.startswith("{"):  # a Matrix file: fetched (images cleaned of metadata) and uploaded
            fetched = await self.foreign_files(shared) if self.foreign_files else None
            if fetched is None:
                return Transient("could not fetch the file from the other platform")
            if len(fetched) > MAX_FILE_UPLOAD:
                return Permanent("file larger than Telegram accepts")
            reference = InputFile(fetched, filename=shared["name"] or "bestand")
        send = bot.send_video if shared["kind"] == "video" else bot.send_document
        media = {"video": reference} if shared["kind"] == "video" else {"document": reference}
        message = await send(chat_id=int(row.chat_id), caption=row.text, parse_mode=ParseMode.HTML,
                             reply_markup=markup, **media)
        return Sent(str(message.message_id))

    async def fetch_file(self, shared: dict) -> bytes | None:
        """The bytes of a Telegram file (``getFile`` serves at most 20 MB), for another platform to upload."""
        return await self.fetch_photo(shared["ref"])

    async def fetch_photo(self, file_id: str) -> bytes | None:
        """The bytes of a Telegram photo, for another platform to upload."""
        try:
            telegram_file = await self.application.bot.get_file(file_id)
            return bytes(await telegram_file.download_as_bytearray())
        except TelegramError as error:
            log.info("could not fetch a photo: %s", type(error).__name__)
            return None

    @staticmethod
    def _markup(choices: list) -> InlineKeyboardMarkup | None:
        if not choices:
            return None
        rows = [[InlineKeyboardButton(button["label"], url=button["url"]) if button.get("url")
                 else InlineKeyboardButton(button["label"], callback_data=button["data"]) for button in row]
                for row in choices]
        return InlineKeyboardMarkup(rows)


def _shared_file(message: Message) -> SharedFile | None:
    """A document or video message as a file reference (its name and type as the sender's app gave them)."""
    if message.video is not None:
        video = message.video
        return SharedFile(kind="video", ref=video.file_id, name=video.file_name or "video.mp4",
                          mime=video.mime_type or "video/mp4", size=video.file_size or 0)
    if message.document is not None:
        document = message.document
        return SharedFile(kind="document", ref=document.file_id, name=document.file_name or "document",
                          mime=document.mime_type or "application/octet-stream", size=document.file_size or 0)
    return None


def plain_text(fragment: str) -> str:
    """A toast is plain text on Telegram: the HTML fragment's text, tags dropped, references read."""
    return html.unescape(re.sub(r"<[^>]*>", "", fragment))


def _seconds(error: RetryAfter) -> float:
    """``retry_after`` is an int today and a timedelta in a later python-telegram-bot."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        retry = error.retry_after
    return retry.total_seconds() if hasattr(retry, "total_seconds") else float(retry)
