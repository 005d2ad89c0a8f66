"""Dutch and English: the person's language, /taal, and the command menus per scope."""

from tests.telegram_people import last, say


async def test_command_menus_are_registered_per_scope_and_language(bot, server):
    private_nl = server.get_commands({"type": "all_private_chats"})
    private_en = server.get_commands({"type": "all_private_chats"}, language_code="en")
    assert [c["command"] for c in private_nl][:2] == ["melden", "mijnmeldingen"]
    assert [c["command"] for c in private_en][:2] == ["report", "myreports"]
    assert private_nl[0]["description"] == "Een melding doen (privé)"
    assert [c["command"] for c in server.get_commands({"type": "all_group_chats"})] == ["melden"]
    admins = server.get_commands({"type": "all_chat_administrators"}, language_code="en")
    assert [c["command"] for c in admins] == ["report", "link"]


async def test_language_follows_telegram_until_chosen_with_taal(bot, server):
    user = server.add_user("Ans", language_code="en")
    assert "Welcome to Weerbaar" in (await say(bot, user, user.private, "/start")).text
    choice = await say(bot, user, user.private, "/taal")
    assert [b["text"] for b in choice.buttons[0]] == ["Nederlands", "English"]
    user.press(choice, choice.buttons[0][0]["callback_data"])
    await bot.settle()
    assert "Ik spreek voortaan Nederlands" in last(server, user.private).text
    # Telegram still says English, but the choice sticks.
    assert "Welkom bij Weerbaar" in (await say(bot, user, user.private, "/start")).text
    assert "I will speak English" in (await say(bot, user, user.private, "/language en")).text
