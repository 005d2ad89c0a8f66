"""The command table is the one source of names, menus, help and permissions; through the real bot."""

import re

from handlers import commands
from handlers.i18n import LANGUAGES, Translator
from tests.telegram_people import say

TELEGRAM_NAME = re.compile(r"[a-z0-9_]{1,32}")


def test_every_name_belongs_to_one_command_and_every_command_works_somewhere():
    names = [name for command in commands.table() for name in command.names]
    assert len(names) == len(set(names))
    assert all(command.private or command.group for command in commands.table())


def test_menus_and_help_texts_exist_in_both_languages_and_fit_telegram():
    texts = Translator.load()
    for command in commands.table():
        if command.menus:
            assert command.menu_key and all(TELEGRAM_NAME.fullmatch(command.name_in(lang)) for lang in LANGUAGES)
        if command.in_help:
            assert texts.has(f"command.{command.key}.help"), command.key
        if command.usage:
            assert texts.has(f"command.{command.key}.usage"), command.key


def test_matrix_bare_words_are_argument_less_commands():
    assert {"melden", "stop", "instanties", "uitnodigingen", "logboek"} <= commands.bare_words()
    assert not {"intrekken", "uitnodigen", "feedback", "categorie"} & commands.bare_words()


async def test_help_shows_what_each_person_may_use_in_their_language(bot, server, cast):
    reporter = await say(bot, cast.erik, cast.erik.private, "/help")
    assert "/melden — een melding doen" in reporter.text and "/feedback" not in reporter.text
    assert "/uitnodigen" not in reporter.text
    official = await say(bot, cast.municipality, cast.municipality.private, "/help")
    assert "/report — make a report" in official.text
    assert "/feedback NUMBER TEXT — feedback to the reporter" in official.text and "/invite" not in official.text
    admin = await say(bot, cast.admin, cast.admin.private, "/beheer")
    assert "/uitnodigen ROL [geldigheid] — uitnodiging" in admin.text
    for name in ("/instanties", "/uitnodigingen", "/intrekken NR [ROL]", "/categorieen", "/beleid", "/logboek",
                 "/statistiek [periode]"):
        assert name in admin.text
    unknown = await say(bot, cast.erik, cast.erik.private, "/toverspreuk")
    assert unknown.text.startswith("Dat begrijp ik niet") and "/mijnmeldingen" in unknown.text


async def test_permissions_come_from_the_table(bot, server, cast):
    for command in ("/uitnodigingen", "/instanties", "/beheer", "/logboek"):
        assert "alleen voor geverifieerde beheerders" in (await say(bot, cast.police, cast.police.private, command)).text
    assert "voor geverifieerde instanties" in (await say(bot, cast.erik, cast.erik.private, "/open")).text
    english = await say(bot, cast.fleur, cast.fleur.private, "/invites")
    assert "only for verified admins" in english.text


async def test_the_park_level_commands_are_in_the_table_help_and_menus(bot, server, cast):
    """Issue 12's commands come from the table like all others: help per role, menus, refusals."""
    member = await say(bot, cast.erik, cast.erik.private, "/help")
    for line in ("/helpen NUMMER — reageren op een oproep", "/parkberichten [aan|uit] —", "/nuttig NUMMER —"):
        assert line in member.text, line
    assert "/bericht" not in member.text and "/oproep" not in member.text and "/scan" not in member.text
    official = await say(bot, cast.municipality, cast.municipality.private, "/help")
    for line in ("/update [text] — an update to the park", "/request [text] — ask the park for help",
                 "/requests — your open requests", "/myupdates —",
                 "/scan [start [duration] [from DAY-MONTH [HH:MM]]|stop|questions|results]"):
        assert line in official.text, line
    assert "/digest" not in official.text
    admin = await say(bot, cast.admin, cast.admin.private, "/beheer")
    assert "/overzicht [aan|uit|dag N|tijd UU:MM|voorbeeld] — het maandoverzicht" in admin.text
    assert "/bericht [tekst]" in admin.text
    assert "/scan [start [duur] [vanaf DAG-MAAND [UU:MM]]|stop|vragen|resultaten]" in admin.text

    menu = [c["command"] for c in server.get_commands({"type": "all_private_chats"})]
    assert {"bericht", "oproep", "parkberichten"} <= set(menu)
    english = server.get_commands({"type": "all_private_chats"}, language_code="en")
    assert {"command": "update", "description": "Update to the park (officials)"} in english

    # The table's role gate, with the park-level refusals (nothing started).
    assert "Parkberichten zijn er voor geverifieerde instanties en beheerders" in (
        await say(bot, cast.erik, cast.erik.private, "/bericht Hallo")).text
    refused = await say(bot, cast.erik, cast.erik.private, "/oproep")
    assert "Oproepen zijn er voor geverifieerde instanties" in refused.text
    assert "alleen voor geverifieerde beheerders" in (await say(bot, cast.erik, cast.erik.private, "/overzicht")).text
    assert "instanties zien de resultaten" in (await say(bot, cast.erik, cast.erik.private, "/scan")).text
    setting = await say(bot, cast.fleur, cast.fleur.private, "/parkupdates")  # for everyone: no gate
    assert "not known as a member of a park yet" in setting.text
