"""Telegram through python-telegram-bot: updates in, outbox rows out."""

import asyncio
import html
import logging
import re
import warnings
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.warnings import PTBDeprecationWarning
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.config import TelegramConfig
from bot.dispatcher import DeliveryResult, Permanent, Redirect, Sent, Transient
from bot.dispatcher import RetryAfter as Retry
from handlers.messages import ButtonPress, Chat, Incoming, Outcome, Sender
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

PLATFORM = "telegram"
PAYLOAD_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Bot API upload limits: a photo at most 10 MB (larger images go as a document), any file at most 50 MB.
MAX_PHOTO_UPLOAD = 10 * 1024 * 1024
MAX_FILE_UPLOAD = 50 * 1024 * 1024
MEMBER_STATUSES = {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}

Handle = Callable[[Incoming], Awaitable[Outcome]]


class TelegramAdapter:
    """Turns updates into neutral messages and delivers outbox rows; also the handlers' port."""

    def __init__(self, config: TelegramConfig, handle: Handle, after_update: Callable[[], None]):
        builder: ApplicationBuilder = ApplicationBuilder().token(config.token)
        if config.base_url:
            builder = builder.base_url(config.base_url)
        if config.base_file_url:
            builder = builder.base_file_url(config.base_file_url)
        self.application: Application = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self.username = config.bot_username
        self._handle = handle
        self._after_update = after_update
        self.handled_updates = 0
        self._handled = asyncio.Condition()
        #: Fetches a photo of another platform (a Matrix reference) as bytes; set by the bootstrap.
        self.foreign_photos: Callable[[str], Awaitable[bytes | None]] | None = None

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self.application.initialize()
        self.username = self.application.bot.username
        await self.application.start()
        await self.application.updater.start_polling(
            allowed_updates=["message", "callback_query"], drop_pending_updates=False, poll_interval=0.0,
            timeout=10)

    async def stop(self) -> None:
        if self.application.updater and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    @property
    def connected(self) -> bool:
        """Started and taking updates (for ``/readyz``)."""
        return self.application.running

    async def wait_handled(self, count: int, timeout: float = 10.0) -> None:
        """Wait until ``count`` updates have been handled (tests and health checks)."""
        async with self._handled:
            await asyncio.wait_for(self._handled.wait_for(lambda: self.handled_updates >= count), timeout)

    # ---- incoming -----------------------------------------------------------------------------

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            incoming = self.to_incoming(update)
            if incoming is None:
                return
            outcome = await self._handle(incoming)
            if update.callback_query is not None:
                await self._answer_callback(update, outcome.toast)
        finally:
            self._after_update()
            async with self._handled:
                self.handled_updates += 1
                self._handled.notify_all()

    async def _answer_callback(self, update: Update, toast: str | None) -> None:
        try:
            await update.callback_query.answer(text=plain_text(toast)[:200] if toast else None)
        except TelegramError as error:
            log.info("could not answer a callback query: %s", type(error).__name__)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.warning("Telegram error: %s", type(context.error).__name__)

    def to_incoming(self, update: Update) -> Incoming | None:
        if update.callback_query is not None:
            query = update.callback_query
            message = query.message
            if message is None or query.data is None:
                return None
            return Incoming(sender=self._sender(query.from_user), chat=self._chat(message.chat),
                            press=ButtonPress(data=query.data, message_id=str(message.message_id)))
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


def plain_text(fragment: str) -> str:
    """A toast is plain text on Telegram: the HTML fragment's text, tags dropped, references read."""
    return html.unescape(re.sub(r"<[^>]*>", "", fragment))


def _seconds(error: RetryAfter) -> float:
    """``retry_after`` is an int today and a timedelta in a later python-telegram-bot."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        retry = error.retry_after
    return retry.total_seconds() if hasattr(retry, "total_seconds") else float(retry)
