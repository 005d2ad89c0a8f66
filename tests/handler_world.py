"""Driving the handlers directly (``handlers.router.handle``), without a platform: for fast, wide tests."""

from handlers.messages import ButtonPress, Chat, Incoming, Sender


class RecordingPlatform:
    """The platform port: group membership from a set (everybody when None); links are recorded."""

    def __init__(self, members: set[str] | None = None):
        self.members = members
        self.links: list[str] = []

    async def is_group_member(self, chat_id: str, user_id: str) -> bool:
        return self.members is None or user_id in self.members

    def private_chat_link(self, payload: str) -> str:
        self.links.append(payload)
        return f"https://t.me/weerbaar_test_bot?start={payload}"


def private_chat(sender: Sender) -> Chat:
    return Chat(platform=sender.platform, chat_id=sender.external_id, is_private=True)


def message(sender: Sender, chat: Chat, *, text=None, press=None, photo=None, location=None,
            unsupported=False) -> Incoming:
    """What the Telegram adapter makes of a text, command, button press, photo or location."""
    command, args = None, ""
    if text is not None and text.startswith("/"):
        head, _, args = text.partition(" ")
        command, args = head[1:].split("@")[0].lower(), args.strip()
    return Incoming(sender=sender, chat=chat, text=text, command=command or None, args=args,
                    press=ButtonPress(data=press) if press else None, photo=photo, location=location,
                    unsupported=unsupported)
