"""What the bot sent, as recorded: Bot API Message dicts with a few test conveniences."""

import asyncio


class RecordedMessage(dict):
    """A Bot API Message dict sent by the bot; edits update it in place.

    Extra attributes (not part of the JSON): ``html`` (the raw text or caption the bot
    sent, before parsing), ``reply_keyboard`` (a ReplyKeyboardMarkup/ReplyKeyboardRemove/
    ForceReply the bot attached, which a Bot API Message does not carry), ``edits``
    (earlier states), ``deleted``.
    """

    def __init__(self, data: dict, html: str | None = None,
                 reply_keyboard: dict | None = None) -> None:
        super().__init__(data)
        self.html = html
        self.reply_keyboard = reply_keyboard
        self.edits: list[dict] = []
        self.deleted = False

    @property
    def message_id(self) -> int:
        return self["message_id"]

    @property
    def chat_id(self) -> int:
        return self["chat"]["id"]

    @property
    def text(self) -> str:
        """The text after entity parsing; '' for a message without text."""
        return self.get("text", "")

    @property
    def caption(self) -> str:
        return self.get("caption", "")

    @property
    def buttons(self) -> list[list[dict]]:
        """Rows of inline buttons, each a dict with text and callback_data or url."""
        markup = self.get("reply_markup") or {}
        return [[dict(button) for button in row] for row in markup.get("inline_keyboard", [])]

    @property
    def keyboard(self) -> list[list[dict]]:
        """Rows of reply-keyboard buttons (ReplyKeyboardMarkup), each a dict with text."""
        markup = self.reply_keyboard or {}
        return [
            [button if isinstance(button, dict) else {"text": button} for button in row]
            for row in markup.get("keyboard", [])
        ]

    def button(self, text_part: str) -> dict:
        """The first inline button whose text contains text_part (AssertionError if none)."""
        for row in self.buttons:
            for button in row:
                if text_part in button["text"]:
                    return button
        shown = [button["text"] for row in self.buttons for button in row]
        raise AssertionError(f"no button containing {text_part!r} in message; buttons: {shown}")

    def callback_data(self) -> list[str]:
        return [b["callback_data"] for row in self.buttons for b in row if "callback_data" in b]

    def __repr__(self) -> str:
        body = self.text or self.caption or next(
            (k for k in ("photo", "location", "sticker", "document", "video") if k in self), "?"
        )
        return f"<RecordedMessage chat={self.chat_id} id={self.message_id} {body!r}>"


class Signal:
    """Wakes every waiter when something changed; safe to fire from synchronous code."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future] = set()

    def fire(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, timeout: float) -> None:
        """Returns when fired or after timeout seconds, whichever comes first."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait({waiter}, timeout=max(timeout, 0))
        finally:
            self._waiters.discard(waiter)
