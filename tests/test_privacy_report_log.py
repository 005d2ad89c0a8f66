"""Who saw what: /logboek melding SP-0001 for the park's admins, under the same retention."""

from datetime import timedelta

from tests.telegram_people import file_report, press, say


async def test_admins_see_who_received_claimed_answered_closed_and_exported_a_report(bot, server, cast):
    async def later(user, text):
        bot.clock.advance(timedelta(minutes=1))
        await say(bot, user, user.private, text)

    await file_report(bot, server, cast.erik, cast.group, what="Busjes")
    await later(cast.police, "/oppakken SP-0001")
    await later(cast.police, "/vraag SP-0001 Welke kleur?")
    await press(bot, server, cast.erik, "Antwoorden")
    await later(cast.erik, "Wit")
    await later(cast.police, "/feedback SP-0001 We kijken")
    await later(cast.erik, "/mijngegevens")
    await later(cast.police, "/sluit SP-0001 Klaar")

    log = await say(bot, cast.admin, cast.admin.private, "/logboek melding SP-0001")
    lines = log.text.splitlines()
    assert "Logboek SP-0001" in lines[0]
    expected = ["de melder: verstuurd", "Piet: ontvangen", "Gwen: ontvangen", "Piet: opgepakt",
                "Piet: vraag gesteld", "de melder: vraag beantwoord", "Piet: terugkoppeling gegeven",
                "de melder: geëxporteerd (/mijngegevens)", "Piet: afgesloten"]
    found = [next(index for index, line in enumerate(lines) if wanted in line) for wanted in expected]
    assert found == sorted(found), lines
    assert "Erik" not in log.text and "Busjes" not in log.text and "Wit" not in log.text

    english = await say(bot, cast.admin, cast.admin.private, "/audit report sp-1")
    assert "Piet: ontvangen" in english.text
    for user in (cast.police, cast.erik):
        refused = await say(bot, user, user.private, "/logboek melding SP-0001")
        assert "alleen voor geverifieerde beheerders" in refused.text
    unknown = await say(bot, cast.admin, cast.admin.private, "/logboek melding NV-0001")
    assert "Ik vind die melding niet" in unknown.text

    await bot.advance(timedelta(days=366))
    purged = await say(bot, cast.admin, cast.admin.private, "/logboek melding SP-0001")
    assert "Van SP-0001 is niets (meer) vastgelegd" in purged.text
