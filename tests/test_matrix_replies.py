"""Replies, edits and answers to older lists on Matrix, as Element and other clients send them."""

from sqlmodel import Session, select

from bot.matrix_replies import own_words, strip_body_fallback, strip_html_fallback
from storage.models import ReportDraft
from tests.test_matrix_loop import linked_park


def reply_content(text: str, quoted_event: str, quoted_sender: str, quoted_text: str) -> dict:
    """What a client with reply fallbacks sends (the spec's format until v1.13)."""
    quoted = "\n".join(f"> {line}" if index else f"> <{quoted_sender}> {line}"
                       for index, line in enumerate(quoted_text.split("\n")))
    return {"msgtype": "m.text", "body": f"{quoted}\n\n{text}", "format": "org.matrix.custom.html",
            "formatted_body": f"<mx-reply><blockquote><a href=\"https://matrix.to/#/!r/{quoted_event}\">In reply to"
                              f"</a> {quoted_text}</blockquote></mx-reply>{text}",
            "m.relates_to": {"m.in_reply_to": {"event_id": quoted_event}}}


def test_the_fallback_quote_is_stripped_only_from_replies():
    content = reply_content("Bij hal 3", "$q", "@bot:x", "Waar was het?\nBeschrijf de plek.")
    assert own_words(content)["body"] == "Bij hal 3"
    assert own_words(content)["formatted_body"] == "Bij hal 3"
    assert strip_body_fallback("> citaat\n>\n> meer\n\nantwoord\n\nnog een regel") == "antwoord\n\nnog een regel"
    assert strip_html_fallback("<MX-REPLY>x\n</mx-reply><b>y</b>") == "<b>y</b>"
    quote = {"msgtype": "m.text", "body": "> Iemand zei: kom maar\n\nDat vond ik raar"}
    assert own_words(quote) == quote                     # not a reply: the person's own quote stays


async def send(world, person, content: dict) -> str:
    response = await person.client.room_send(person.dm, "m.room.message", content, ignore_unverified_devices=True)
    await world.settle(response.event_id)
    return response.event_id


async def test_replies_edits_and_older_lists_in_a_report(world):
    anna, erik, piet, gwen, room = await linked_park(world)
    await world.tell(erik, room, "!melden")
    categories = await erik.expect(erik.dm, "Kies een soort")

    # A reply to the category question with the quote in body: the number still counts.
    await send(world, erik, reply_content("1", categories.event_id, world.bot_user_id, categories.body))
    where = await erik.expect(None, "Waar")
    await send(world, erik, reply_content("Bij hal 3", where.event_id, world.bot_user_id, where.body))
    when = await erik.expect(None, "Wanneer")

    # A number replied to the older category list: stale, and the current question comes again.
    await send(world, erik, reply_content("2", categories.event_id, world.bot_user_id, categories.body))
    await erik.expect(None, "eerdere lijst")
    again = await erik.expect(None, "Wanneer")
    assert again.body == when.body
    await world.tell(erik, None, "nu")
    what = await erik.expect(None, "Wat")

    # A bare number while the question wants text, right after a list: stale too.
    await world.tell(erik, None, "2")
    await erik.expect(None, "eerdere lijst")
    await erik.expect(None, "Wat")

    description = "Elke nacht busjes met zware pakketten"
    sent = await send(world, erik, reply_content(description, what.event_id, world.bot_user_id, what.body))
    await erik.expect(None, "foto")
    with Session(world.db.engine) as session:
        draft = session.exec(select(ReportDraft)).one()
    assert draft.data["where_text"] == "Bij hal 3" and draft.data["what"] == description

    # An edit of a handled message: a short answer, nothing changes.
    await send(world, erik, {"msgtype": "m.text", "body": "* Elke nacht drie busjes",
                             "m.new_content": {"msgtype": "m.text", "body": "Elke nacht drie busjes"},
                             "m.relates_to": {"rel_type": "m.replace", "event_id": sent}})
    await erik.expect(None, "bewerkt bericht")
    with Session(world.db.engine) as session:
        assert session.exec(select(ReportDraft)).one().data["what"] == description
