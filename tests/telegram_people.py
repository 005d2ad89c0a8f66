"""The cast of the end-to-end scenarios and the steps they take, as a user would."""

from dataclasses import dataclass

from tests.fake_telegram import FakeTelegram
from tests.harness import Harness


@dataclass
class Cast:
    admin: object
    police: object
    municipality: object
    fire: object
    erik: object
    fleur: object
    outsider: object
    group: object


async def assemble(bot: Harness, server: FakeTelegram) -> Cast:
    """An admin, three officials, two entrepreneurs in the linked group, and an outsider."""
    admin = server.add_user("Anna", username="anna_admin", language_code="nl")
    police = server.add_user("Piet", username="piet_politie", language_code="nl")
    municipality = server.add_user("Gwen", username="gwen_gemeente", language_code="en")
    fire = server.add_user("Bram", username="bram_brandweer", language_code="nl")
    erik = server.add_user("Erik", username="erik_ondernemer", language_code="nl")
    fleur = server.add_user("Fleur", username="fleur_bv", language_code="en")
    outsider = server.add_user("Otto", username="otto_buiten", language_code="nl")
    group = server.add_group("Ondernemers Spaanse Polder", members=[admin, erik, fleur], privacy_mode=True)
    await bot.verify(admin, "admin")
    await bot.verify(police, "police")
    await bot.verify(municipality, "municipality")
    await bot.verify(fire, "fire_brigade")
    admin.send(group, "/koppel")
    await bot.settle()
    return Cast(admin, police, municipality, fire, erik, fleur, outsider, group)


LABELS = {
    "nl": {"now": "Nu", "done": "Klaar", "anonymous": "Anoniem", "named": "naam", "urgent": "spoed",
           "not_urgent": "Nee", "send": "Versturen"},
    "en": {"now": "Now", "done": "Done", "anonymous": "Anonymous", "named": "name", "urgent": "urgent",
           "not_urgent": "No", "send": "Send"},
}


def last(server: FakeTelegram, chat) -> object:
    messages = server.messages(chat)
    assert messages, f"no bot message in {chat}"
    return messages[-1]


def button(message, label_part: str) -> dict:
    """The button whose text contains ``label_part`` (case-insensitive)."""
    for row in message.buttons:
        for candidate in row:
            if label_part.lower() in candidate["text"].lower():
                return candidate
    raise AssertionError(f"no button '{label_part}' in {[b['text'] for r in message.buttons for b in r]}")


async def press(bot: Harness, server: FakeTelegram, user, label_part: str, chat=None, message=None):
    """Press a button on the bot's last message in the user's private chat (or ``message``)."""
    message = message or last(server, chat or user.private)
    user.press(message, button(message, label_part)["callback_data"])
    await bot.settle()
    return last(server, chat or user.private)


async def say(bot: Harness, user, chat, text: str):
    user.send(chat, text)
    await bot.settle()
    return bot.server.messages(chat)[-1] if bot.server.messages(chat) else None


async def open_report_from_group(bot: Harness, server: FakeTelegram, user, group):
    """``/melden`` in the group, then the deep-link button into the private chat."""
    await say(bot, user, group, "/melden")
    link = button(last(server, group), "")["url"]
    user.open_link(link)
    await bot.settle()
    return last(server, user.private)


async def file_report(bot: Harness, server: FakeTelegram, user, group, *, category: str = "Drugs",
                      where: str = "Loods 7, Spaanse Polderweg", what: str = "Elke nacht busjes met zware pakketten",
                      anonymous: bool = True, urgent: bool = False, photos: int = 0, send: bool = True) -> None:
    """The whole guided report from the group, answered the straightforward way."""
    await open_report_from_group(bot, server, user, group)
    await press(bot, server, user, category)
    await say(bot, user, user.private, where)
    labels = LABELS[user.language_code]
    await press(bot, server, user, labels["now"])
    await say(bot, user, user.private, what)
    for _ in range(photos):
        user.send_photo(user.private)
        await bot.settle()
    await press(bot, server, user, labels["done"])
    await press(bot, server, user, labels["anonymous"] if anonymous else labels["named"])
    await press(bot, server, user, labels["urgent"] if urgent else labels["not_urgent"])
    if send:
        await press(bot, server, user, labels["send"])
