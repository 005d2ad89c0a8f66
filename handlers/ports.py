"""What the handlers need from a platform, implemented by the adapters in ``bot``."""

from typing import Protocol


class PlatformPort(Protocol):
    async def is_group_member(self, chat_id: str, user_id: str) -> bool:
        """Ask the platform whether the user is currently a member of the group."""

    def private_chat_link(self, payload: str) -> str | None:
        """A link that opens the private chat with the bot, carrying ``payload``."""

    # Optional: ``mention_html(external_id, display_name) -> str`` renders a mention of a
    # person (a pill on Matrix); without it, names are plain text.
    # Optional: ``group_buttons: bool`` (default True) says whether people can press buttons
    # under a message in a group; where not (Matrix rooms), a command is offered instead.
