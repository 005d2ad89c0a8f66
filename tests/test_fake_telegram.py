"""The fake Bot API behaves like Telegram, seen through python-telegram-bot's real HTTP stack."""

import asyncio
import ssl
import warnings
from datetime import UTC
from functools import cache

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, InputMediaPhoto, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import ApplicationBuilder, CommandHandler
from telegram.request import HTTPXRequest

from tests.fake_telegram import FakeTelegram, ManualClock, parse_html
from tests.fake_telegram import EntityParseError

BOT_NAME = "weerbaar_test_bot"
# PTB raises this itself when building RetryAfter; nothing for these tests to act on.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def http() -> HTTPXRequest:
    """PTB's own HTTP stack; sharing one TLS context saves 50 ms of CA loading per client."""
    return HTTPXRequest(httpx_kwargs={"verify": _tls()})


def make_bot(tg: FakeTelegram, token: str | None = None) -> Bot:
    return Bot(token or tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url,
               request=http(), get_updates_request=http())


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
async def tg(clock):
    server = FakeTelegram(bot_username=BOT_NAME, clock=clock)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(tg):
    async with make_bot(tg) as client:
        yield client


@pytest.fixture
def alice(tg):
    user = tg.add_user("Alice", username="alice", language_code="nl")
    user.start()
    return user


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(buttons)])


async def drain(bot: Bot) -> None:
    """Confirms every queued update, so a test sees only what it causes next."""
    updates = await bot.get_updates(timeout=0)
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)


def seconds(exc: RetryAfter) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value if isinstance(value, int) else int(value.total_seconds())


# --- identity, URLs, envelope ------------------------------------------------------------------
async def test_bot_identity_and_url_building(tg, bot):
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (1000, BOT_NAME, True)
    assert bot.base_url == f"{tg.base_url}{tg.token}"
    assert tg.requests[0].method == "getMe"


async def test_wrong_token_is_unauthorized(tg):
    strict = FakeTelegram(token="1000:right")
    await strict.start()
    try:
        async with make_bot(strict, "1000:right") as good:
            assert (await good.get_me()).id == 1000
        with pytest.raises(InvalidToken):
            async with make_bot(strict, "1000:wrong"):
                pass  # initialize() calls getMe
        assert strict.errors[-1][::2] == ("getMe", 401)
        assert strict.errors[-1].description == "Unauthorized"
    finally:
        await strict.stop()
    with pytest.raises(InvalidToken):
        async with make_bot(tg, "not-a-token"):
            pass


async def test_unknown_method_is_not_found(tg, bot):
    from telegram.error import EndPointNotFound

    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})
    assert tg.errors[-1].error_code == 404
    assert tg.errors[-1].description == "Not Found"


# --- sending and recording ------------------------------------------------------------------------
async def test_good_message_is_recorded_with_buttons(tg, bot, alice):
    markup = InlineKeyboardMarkup([
        [InlineKeyboardButton("Ja", callback_data="yes"), InlineKeyboardButton("Nee", callback_data="no")],
        [InlineKeyboardButton("Open", url=f"https://t.me/{BOT_NAME}?start=r_42")],
    ])
    sent = await bot.send_message(alice.id, "<b>Melding</b> &amp; meer", parse_mode=ParseMode.HTML,
                                  reply_markup=markup)
    assert sent.text == "Melding & meer"
    assert sent.entities[0].type == "bold" and sent.entities[0].length == 7
    [message] = tg.messages(alice.private)
    assert message.text == "Melding & meer"
    assert message.html == "<b>Melding</b> &amp; meer"
    assert message.buttons[0][1] == {"text": "Nee", "callback_data": "no"}
    assert message.button("Op")["url"].endswith("start=r_42")
    assert message.callback_data() == ["yes", "no"]
    assert tg.sent == [message]
    assert tg.deep_links[0].payload == "r_42" and tg.deep_links[0].valid
    assert tg.requests[-1].params["chat_id"] == alice.id


async def test_chat_id_as_string_and_64_bit_ids(tg, bot):
    bob = tg.add_user("Bob", user_id=7_123_456_789)
    bob.start()
    group = tg.add_group("Spaanse Polder", members=[bob], supergroup=True)
    assert group.id < -(2**32)
    await bot.send_message(str(bob.id), "hoi")
    await bot.send_message(str(group.id), "hallo groep")
    assert [m.text for m in tg.sent] == ["hoi", "hallo groep"]


async def test_text_length_limits_count_after_entity_parsing(tg, bot, alice, clock):
    tg.rate_limits = False
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(alice.id, "")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(alice.id, " \n ")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(alice.id, "<b></b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice.id, "x" * 4097)
    await bot.send_message(alice.id, "x" * 4096)
    await bot.send_message(alice.id, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice.id, "&lt;" * 4097, parse_mode=ParseMode.HTML)
    assert len(tg.messages(alice)) == 2


async def test_caption_limit(tg, bot, alice):
    tg.rate_limits = False
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(alice.id, b"\xff\xd8jpeg", caption="c" * 1025)
    sent = await bot.send_photo(alice.id, b"\xff\xd8jpeg", caption="c" * 1024)
    assert sent.caption == "c" * 1024


@pytest.mark.parametrize("html, reason", [
    ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
    ("prijs < 5 euro", 'Unsupported start tag "" at byte offset 6'),
    ("a <b>vet", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<b>vet <i>schuin</b></i>", 'Unmatched end tag at byte offset 16, expected "</i>", found "</b>"'),
    ("niets</b>", "Unexpected end tag at byte offset 5"),
    ("<b", "Unclosed start tag at byte offset 0"),
    ("Tom & Jerry", 'Unescaped "&" at byte offset 4'),
    ("5 > 3", 'Unescaped ">" at byte offset 2'),
    ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
])
async def test_bad_html_is_refused(tg, bot, alice, html, reason):
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(alice.id, html, parse_mode=ParseMode.HTML)
    assert caught.value.message.startswith("Can't parse entities: ")
    assert tg.errors[-1].description == f"Bad Request: can't parse entities: {reason}" or \
        tg.errors[-1].description.startswith(f"Bad Request: can't parse entities: {reason}")
    assert tg.sent == []


def test_html_parser_handles_the_whole_tag_set():
    text, entities = parse_html(
        '<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>'
        '<del>d</del><span class="tg-spoiler">p</span><tg-spoiler>q</tg-spoiler>'
        '<a href="https://example.org/?a=1&amp;b=2">link</a><code>c</code>'
        '<pre><code class="language-python">x = 1</code></pre><blockquote>q</blockquote>'
        '<blockquote expandable>z</blockquote><tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
        " &lt;&gt;&amp;&quot;&#65;&#x42; 😀<b>na</b>"
    )
    assert text == 'bsieunskdpqlinkcx = 1qz👍 <>&"AB 😀na'
    types = [e["type"] for e in entities]
    assert types[:9] == ["bold", "bold", "italic", "italic", "underline", "underline",
                         "strikethrough", "strikethrough", "strikethrough"]
    assert {"spoiler", "text_link", "code", "pre", "blockquote", "expandable_blockquote",
            "custom_emoji"} <= set(types)
    link = next(e for e in entities if e["type"] == "text_link")
    assert link["url"] == "https://example.org/?a=1&b=2"
    pre = next(e for e in entities if e["type"] == "pre")
    assert pre["language"] == "python"
    assert entities[-1] == {"offset": 35, "length": 2, "type": "bold"}  # emoji count 2 UTF-16 units
    with pytest.raises(EntityParseError):
        parse_html("<br/>")


# --- inline keyboards --------------------------------------------------------------------------------
async def test_callback_data_is_limited_to_64_bytes(tg, bot, alice, clock):
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(alice.id, "kies", reply_markup=keyboard(
            InlineKeyboardButton("é", callback_data="é" * 33)))  # 33 characters, 66 bytes
    await bot.send_message(alice.id, "kies", reply_markup=keyboard(
        InlineKeyboardButton("é", callback_data="é" * 32)))
    assert tg.messages(alice)[0].callback_data() == ["é" * 32]


@pytest.mark.parametrize("button, reason", [
    (InlineKeyboardButton("", callback_data="x"), "inline keyboard button text must be non-empty"),
    (InlineKeyboardButton("geen actie"), "Text buttons are unallowed in the inline keyboard"),
    (InlineKeyboardButton("leeg", callback_data=""), "Text buttons are unallowed in the inline keyboard"),
    (InlineKeyboardButton("beide", url="https://example.org", callback_data="x"), "exactly one"),
    (InlineKeyboardButton("ftp", url="ftp://example.org/x"), "BUTTON_URL_INVALID"),
    (InlineKeyboardButton("rel", url="/relative"), "BUTTON_URL_INVALID"),
])
async def test_invalid_buttons_are_refused(tg, bot, alice, button, reason):
    with pytest.raises(BadRequest):
        await bot.send_message(alice.id, "kies", reply_markup=keyboard(button))
    assert reason in tg.errors[-1].description


# --- chats the bot may not write to ----------------------------------------------------------------
async def test_bot_cannot_start_a_conversation(tg, bot):
    carol = tg.add_user("Carol")
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(carol.id, "hallo")
    carol.start()
    await bot.send_message(carol.id, "hallo")
    carol.block_bot()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(carol.id, "nog een keer")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "niemand")


async def test_sending_in_private_counts_as_start(tg, bot):
    dave = tg.add_user("Dave")
    dave.send(dave.private, "hoi bot")
    await bot.send_message(dave.id, "hoi Dave")


async def test_bot_removed_from_group(tg, bot, alice):
    group = tg.add_group("Polder", members=[alice])
    tg.set_bot_status(group, "kicked")
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(group.id, "hallo")


# --- updates ---------------------------------------------------------------------------------------
async def test_get_updates_returns_queued_updates_and_respects_offset(tg, bot):
    erik = tg.add_user("Erik", username="erik")
    erik.start("abc")
    erik.send(erik.private, "/melden")
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates] == ["/start abc", "/melden"]
    assert updates[1].message.entities[0].type == "bot_command"
    assert updates[0].message.chat.id == erik.id and updates[0].message.from_user.username == "erik"
    assert tg.pending_updates() == 2
    again = await bot.get_updates(offset=updates[0].update_id + 1, timeout=0)
    assert [u.update_id for u in again] == [updates[1].update_id]
    assert tg.pending_updates() == 1
    assert await bot.get_updates(offset=updates[1].update_id + 1, timeout=0) == ()
    assert tg.pending_updates() == 0
    assert tg.updates_enqueued == 2


async def test_long_poll_returns_as_soon_as_an_update_is_queued(tg, bot, alice):
    await bot.get_updates(offset=-1, timeout=0)
    first = (await bot.get_updates(timeout=0))[-1].update_id
    poll = asyncio.create_task(bot.get_updates(offset=first + 1, timeout=30))
    await tg.wait_for_request("getUpdates", lambda params: params.get("offset") == first + 1, timeout=5)
    assert not poll.done()
    alice.send(alice.private, "wakker worden")
    updates = await asyncio.wait_for(poll, 5)
    assert [u.message.text for u in updates] == ["wakker worden"]


async def test_a_second_poller_gets_conflict(tg, bot):
    from telegram.error import Conflict

    first = asyncio.create_task(bot.get_updates(timeout=30))
    await tg.wait_for_request("getUpdates", timeout=5)
    async with make_bot(tg) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 5)


async def test_allowed_updates_filters_and_drop_pending(tg, bot, alice):
    message = await bot.send_message(alice.id, "kies", reply_markup=keyboard(
        InlineKeyboardButton("Ja", callback_data="yes")))
    await bot.get_updates(offset=-1, timeout=0)
    await bot.get_updates(offset=(await bot.get_updates(timeout=0))[-1].update_id + 1, timeout=0)
    alice.press(tg.messages(alice)[0], "yes")
    alice.send(alice.private, "tekst")
    updates = await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in updates] == ["yes"]
    assert updates[0].callback_query.message.message_id == message.message_id
    alice.send(alice.private, "weg")
    await bot.delete_webhook(drop_pending_updates=True)
    assert tg.pending_updates() == 0


# --- group privacy mode ----------------------------------------------------------------------------
async def test_privacy_mode_delivers_only_commands_replies_and_service_messages(tg, bot, alice):
    bob = tg.add_user("Bob")
    group = tg.add_group("Spaanse Polder", members=[alice, bob], privacy_mode=True)
    assert group.type == "group" and group.id < 0
    await drain(bot)
    alice.send(group, "gewoon gepraat")
    alice.send(group, "/melden")
    alice.send(group, f"/melden@{BOT_NAME}")
    alice.send(group, "/melden@other_bot")
    alice.send(group, "zie /melden hierboven")
    alice.send_photo(group)
    alice.send_sticker(group)
    own = await bot.send_message(group.id, "Ik ben de bot")
    bob.send(group, "antwoord aan de bot", reply_to=tg.messages(group)[0])
    bob.send(group, "antwoord aan alice", reply_to=alice.send(group, "vraag"))
    carol = tg.add_user("Carol")
    tg.add_member(group, carol)
    tg.remove_member(group, bob)
    updates = await bot.get_updates(timeout=0)
    seen = [u.message.text or ("joined" if u.message.new_chat_members else "left")
            for u in updates]
    assert seen == ["/melden", f"/melden@{BOT_NAME}", "antwoord aan de bot", "joined", "left"]
    assert updates[2].message.reply_to_message.message_id == own.message_id


async def test_without_privacy_mode_the_bot_sees_everything(tg, bot, alice):
    group = tg.add_group("Open groep", members=[alice], privacy_mode=False)
    await drain(bot)
    alice.send(group, "gewoon gepraat")
    alice.send(group, "/melden@other_bot")
    alice.send_location(group, 51.93, 4.42)
    updates = await bot.get_updates(timeout=0)
    assert len(updates) == 3
    assert updates[2].message.location.latitude == pytest.approx(51.93)


# --- flood control -------------------------------------------------------------------------------
async def test_injected_429_and_5xx(tg, bot, alice):
    tg.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(alice.id, "eerste")
    assert seconds(caught.value) == 3
    tg.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(alice.id, "tweede")
    await bot.send_message(alice.id, "derde")
    assert [m.text for m in tg.messages(alice)] == ["derde"]
    assert [r.method for r in tg.requests] == ["getMe"] + ["sendMessage"] * 3


async def test_injected_failure_for_one_chat_only(tg, bot, alice, clock):
    bob = tg.add_user("Bob")
    bob.start()
    tg.fail_next("sendMessage", status=429, retry_after=7, chat_id=bob)
    await bot.send_message(alice.id, "alice eerst")
    with pytest.raises(RetryAfter):
        await bot.send_message(bob.id, "bob")
    clock.advance(1)
    await bot.send_message(bob.id, "bob opnieuw")


async def test_private_chat_flood_control_uses_the_injected_clock(tg, bot, alice, clock):
    await bot.send_message(alice.id, "een")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(alice.id, "twee")
    assert seconds(caught.value) == 1
    assert "Too Many Requests: retry after 1" == tg.errors[-1].description
    clock.advance(0.5)
    with pytest.raises(RetryAfter):
        await bot.send_message(alice.id, "twee")
    clock.advance(0.5)
    await bot.send_message(alice.id, "twee")
    tg.rate_limits = False
    await bot.send_message(alice.id, "drie")
    assert len(tg.messages(alice)) == 3


async def test_group_flood_control_20_per_minute(tg, bot, alice, clock):
    group = tg.add_group("Polder", members=[alice])
    for n in range(20):
        await bot.send_message(group.id, f"bericht {n}")
        clock.advance(0.1)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group.id, "een te veel")
    assert seconds(caught.value) == 58
    clock.advance(58)
    await bot.send_message(group.id, "weer mogelijk")


async def test_global_flood_control_30_per_second(tg, bot, clock):
    users = [tg.add_user(f"U{n}") for n in range(31)]
    for user in users:
        user.start()
    for user in users[:30]:
        await bot.send_message(user.id, "hoi")
    with pytest.raises(RetryAfter):
        await bot.send_message(users[30].id, "hoi")
    clock.advance(1)
    await bot.send_message(users[30].id, "hoi")


# --- migration ----------------------------------------------------------------------------------------
async def test_group_migrates_to_supergroup(tg, bot, alice):
    group = tg.add_group("Spaanse Polder", members=[alice])
    await drain(bot)
    new_id = tg.migrate_to_supergroup(group)
    assert new_id < -1_000_000_000_000
    updates = await bot.get_updates(timeout=0)
    assert updates[0].message.migrate_to_chat_id == new_id
    assert updates[0].message.chat.id == group.id
    assert updates[1].message.migrate_from_chat_id == group.id
    assert updates[1].message.chat.type == "supergroup"
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(group.id, "oud")
    assert caught.value.new_chat_id == new_id
    await bot.send_message(new_id, "nieuw")
    alice.send(group, "/melden")  # her app is in the supergroup now
    [update] = await bot.get_updates(offset=updates[1].update_id + 1, timeout=0)
    assert update.message.chat.id == new_id
    assert (await bot.get_chat(new_id)).type == "supergroup"


# --- callback queries and edits ----------------------------------------------------------------------
async def test_press_answer_and_edit(tg, bot, alice):
    sent = await bot.send_message(alice.id, "Categorie?", reply_markup=keyboard(
        InlineKeyboardButton("Drugs", callback_data="cat:drugs")))
    message = tg.messages(alice)[0]
    with pytest.raises(AssertionError, match="no button with data"):
        alice.press(message, "cat:wapens")
    query = alice.press(message, "cat:drugs")
    assert tg.unanswered_callbacks() == [query["id"]]
    await bot.answer_callback_query(query["id"], text="Genoteerd")
    assert tg.answered_callbacks == [(query["id"], "Genoteerd", False)]
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query["id"])
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("123")
    forged = alice.press_raw(sent, "cat:anything")  # a PTB Message works too
    with pytest.raises(BadRequest, match="Message_too_long"):
        await bot.answer_callback_query(forged["id"], text="x" * 201)
    await bot.answer_callback_query(forged["id"], text="x" * 200, show_alert=True)

    edited = await bot.edit_message_text("Categorie: <b>Drugs</b>", alice.id, sent.message_id,
                                         parse_mode=ParseMode.HTML)
    assert edited.text == "Categorie: Drugs" and edited.edit_date is not None
    assert message.text == "Categorie: Drugs" and message.buttons == []
    assert message.edits[0]["text"] == "Categorie?"
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Categorie: <b>Drugs</b>", alice.id, sent.message_id,
                                    parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", alice.id, 9999)
    await bot.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=keyboard(
        InlineKeyboardButton("Wijzig", callback_data="change")))
    assert message.callback_data() == ["change"]
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=keyboard(
            InlineKeyboardButton("Wijzig", callback_data="change")))


async def test_reply_to_a_message(tg, bot, alice):
    incoming = alice.send(alice.private, "mijn melding")
    reply = await bot.send_message(alice.id, "ontvangen",
                                   reply_parameters=ReplyParameters(incoming["message_id"]))
    assert reply.reply_to_message.text == "mijn melding"
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(alice.id, "x", reply_parameters=ReplyParameters(999))


async def test_delete_message(tg, bot, alice):
    tg.rate_limits = False
    sent = await bot.send_message(alice.id, "weg ermee")
    assert await bot.delete_message(alice.id, sent.message_id)
    assert tg.messages(alice) == [] and tg.sent[0].deleted
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(alice.id, sent.message_id)
    group = tg.add_group("Polder", members=[alice], privacy_mode=False)
    said = alice.send(group, "geheim")
    with pytest.raises(BadRequest, match="Message can't be deleted"):
        await bot.delete_message(group.id, said["message_id"])


# --- deep links ---------------------------------------------------------------------------------------
async def test_deep_links_are_recorded_and_opened_like_telegram(tg, bot, alice):
    group = tg.add_group("Polder", members=[alice])
    await bot.send_message(group.id, "Meld privé", reply_markup=InlineKeyboardMarkup([
        [InlineKeyboardButton("Goed", url=f"https://t.me/{BOT_NAME}?start=melden_{group.id}")],
        [InlineKeyboardButton("Fout", url=f"https://t.me/{BOT_NAME}?start=melden:{group.id}")],
    ]))
    await bot.send_message(alice.id, f"Of tik t.me/{BOT_NAME}?start=typed_link.")
    good, bad, typed = tg.deep_links
    assert good.valid and good.payload == f"melden_{group.id}"
    assert not bad.valid
    assert typed.valid and typed.payload == "typed_link" and typed.chat_id == alice.id
    await bot.get_updates(offset=-1, timeout=0)
    last = (await bot.get_updates(timeout=0))[-1].update_id
    alice.open_link(good.url)
    alice.open_link(bad.url)
    updates = await bot.get_updates(offset=last + 1, timeout=0)
    assert [u.message.text for u in updates] == [f"/start melden_{group.id}", "/start"]
    with pytest.raises(AssertionError):
        alice.open_link("https://t.me/other_bot?start=x")


# --- media, files, locations ----------------------------------------------------------------------------
async def test_photos_files_and_albums(tg, bot, alice):
    tg.rate_limits = False
    incoming = alice.send_photo(alice.private, caption="kapotte poort")
    file_ids = [size["file_id"] for size in incoming["photo"]]
    assert len(set(file_ids)) == 3
    sent = await bot.send_photo(alice.id, file_ids[-1], caption="doorgestuurd")
    assert sent.photo[-1].file_id == file_ids[-1]
    uploaded = await bot.send_photo(alice.id, b"\xff\xd8 my bytes \xff\xd9")
    file = await bot.get_file(uploaded.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == b"\xff\xd8 my bytes \xff\xd9"
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(alice.id, "AgACAgQAAxkBnonsense")
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("nonsense")
    album = await bot.send_media_group(alice.id, [InputMediaPhoto(file_ids[-1], caption="een"),
                                                  InputMediaPhoto(b"\xff\xd8second")])
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    assert tg.messages(alice)[-2].caption == "een"
    with pytest.raises(BadRequest, match="Too many messages to send as an album"):
        await bot.send_media_group(alice.id, [InputMediaPhoto(file_ids[-1])] * 11)
    location = await bot.send_location(alice.id, 51.9, 4.4)
    assert location.location.longitude == pytest.approx(4.4)
    with pytest.raises(BadRequest):
        await bot.send_location(alice.id, 91, 4.4)


async def test_videos_and_documents_go_by_file_id_and_the_file_limits_hold(tg, bot, alice):
    tg.rate_limits = False
    video = alice.send_video(alice.private, b"v" * 1000, file_name="poort.mp4")["video"]
    document = alice.send_document(alice.private, b"%PDF-1.4 rapport", file_name="rapport.pdf")["document"]
    again = await bot.send_video(alice.id, video["file_id"], caption="beelden")
    assert again.video.file_id == video["file_id"] and again.caption == "beelden"
    resent = await bot.send_document(alice.id, document["file_id"])
    assert resent.document.file_name == "rapport.pdf" and resent.document.mime_type == "application/pdf"
    with pytest.raises(BadRequest, match="Type of file mismatch"):
        await bot.send_video(alice.id, document["file_id"])
    # A bot fetches files up to 20 MB (getFile) and uploads up to 50 MB, as the real Bot API.
    big = alice.send_video(alice.private, b"v" * (20 * 1024 * 1024 + 1))["video"]
    with pytest.raises(BadRequest, match="File is too big"):
        await bot.get_file(big["file_id"])
    assert (await bot.get_file(video["file_id"])).file_size == 1000
    with pytest.raises(NetworkError, match="Request Entity Too Large"):
        await bot.send_video(alice.id, InputFile(b"v" * (50 * 1024 * 1024 + 1), filename="lang.mp4"))
    uploaded = await bot.send_video(alice.id, InputFile(b"v" * 2000, filename="kort.mp4"))
    assert uploaded.video.file_name == "kort.mp4" and uploaded.video.file_size == 2000


# --- membership -------------------------------------------------------------------------------------
async def test_membership_changes_reach_the_bot(tg, bot):
    gerda = tg.add_user("Gerda")
    group = tg.add_group("Nieuwe groep", members=[gerda], added_by=gerda)
    gerda.start()
    gerda.block_bot()
    gerda.start()
    tg.set_bot_status(group, "kicked", by=gerda)
    updates = await bot.get_updates(timeout=0)
    changes = [(u.my_chat_member.chat.id, u.my_chat_member.old_chat_member.status,
                u.my_chat_member.new_chat_member.status) for u in updates if u.my_chat_member]
    assert changes == [(group.id, "left", "member"), (gerda.id, "member", "kicked"),
                       (gerda.id, "kicked", "member"), (group.id, "member", "kicked")]
    assert updates[1].message.new_chat_members[0].id == 1000
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(group.id, "hallo")


async def test_a_datetime_clock_dates_messages_and_drives_flood_control():
    from datetime import datetime, timedelta

    class BotClock:
        moment = datetime(2026, 11, 30, 8, 0)

        def now(self):
            return self.moment

    clock = BotClock()
    async with FakeTelegram(clock=clock) as server:
        async with make_bot(server) as client:
            henk = server.add_user("Henk")
            sent = henk.start()
            assert sent["date"] == int(datetime(2026, 11, 30, 8, 0, tzinfo=UTC).timestamp())
            await client.send_message(henk.id, "een")
            with pytest.raises(RetryAfter):
                await client.send_message(henk.id, "twee")
            clock.moment += timedelta(seconds=1)
            reply = await client.send_message(henk.id, "twee")
            assert reply.date == datetime(2026, 11, 30, 8, 0, 1, tzinfo=UTC)


# --- chat information ------------------------------------------------------------------------------------
async def test_chat_members_and_administrators(tg, bot, alice):
    bob, carol = tg.add_user("Bob"), tg.add_user("Carol")
    group = tg.add_group("Polder", members=[alice, bob], admins=[bob])
    assert (await bot.get_chat_member(group.id, alice.id)).status == "creator"
    assert (await bot.get_chat_member(group.id, bob.id)).status == "administrator"
    assert (await bot.get_chat_member(group.id, carol.id)).status == "left"
    tg.remove_member(group, bob, kicked=True)
    assert (await bot.get_chat_member(group.id, bob.id)).status == "kicked"
    assert (await bot.get_chat_member(group.id, 1000)).status == "member"
    admins = await bot.get_chat_administrators(group.id)
    assert [a.user.id for a in admins] == [alice.id]
    chat = await bot.get_chat(group.id)
    assert (chat.title, chat.type) == ("Polder", "group")
    with pytest.raises(BadRequest, match="User not found"):
        await bot.get_chat_member(group.id, 5)


# --- commands ---------------------------------------------------------------------------------------------
async def test_commands_are_validated_and_stored(tg, bot, alice):
    from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

    commands = [BotCommand("melden", "Doe een melding"), BotCommand("status", "Mijn meldingen")]
    await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(), language_code="nl")
    stored = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="nl")
    assert [c.command for c in stored] == ["melden", "status"]
    assert await bot.get_my_commands() == ()
    assert tg.get_commands({"type": "all_private_chats"}, "nl")[0]["command"] == "melden"
    for bad, reason in [(BotCommand("Melden", "x"), "BOT_COMMAND_INVALID"),
                        (BotCommand("m" * 33, "x"), "command length must not exceed 32"),
                        (BotCommand("melden", ""), "command description must be non-empty"),
                        (BotCommand("melden", "d" * 257), "description length must not exceed 256")]:
        with pytest.raises(BadRequest):
            await bot.set_my_commands([bad])
        assert reason in tg.errors[-1].description
    with pytest.raises(BadRequest, match="Invalid language code specified"):
        await bot.set_my_commands(commands, language_code="nld")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(-5))
    await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="nl")
    assert tg.get_commands({"type": "all_private_chats"}, "nl") == []


# --- waiting for the bot ----------------------------------------------------------------------------------
async def test_wait_for_and_next_message(tg, bot, alice):
    tg.rate_limits = False
    later = asyncio.create_task(tg.wait_for(lambda m: "klaar" in m.text, timeout=5))
    await bot.send_message(alice.id, "bezig")
    assert not later.done()
    await bot.send_message(alice.id, "klaar")
    assert (await later).text == "klaar"
    assert (await tg.next_message(alice.private)).text == "bezig"
    assert (await tg.next_message(alice)).text == "klaar"
    with pytest.raises(TimeoutError, match="no new bot message"):
        await tg.next_message(alice, timeout=0.05)


async def test_a_real_application_polls_the_fake(tg):
    async def start(update, context):
        await update.message.reply_text(f"Welkom, {update.effective_user.first_name}")

    app = (ApplicationBuilder().token(tg.token).base_url(tg.base_url)
           .request(http()).get_updates_request(http()).build())
    app.add_handler(CommandHandler("start", start))
    frank = tg.add_user("Frank")
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=10)
        frank.start()
        reply = await tg.next_message(frank, timeout=5)
        assert reply.text == "Welkom, Frank"
        await app.updater.stop()
        await app.stop()


async def test_upload_limits_for_photos_and_documents(tg, bot, alice):
    """Photos: an image, at most 10 MB, width + height at most 10000, ratio at most 20; files at most 50 MB."""
    from telegram.error import NetworkError

    tg.rate_limits = False

    def png(width: int, height: int) -> bytes:
        return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big")

    with pytest.raises(BadRequest, match="(?i)image_process_failed"):
        await bot.send_photo(alice.id, b"not an image")
    with pytest.raises(BadRequest, match="(?i)photo_invalid_dimensions"):
        await bot.send_photo(alice.id, png(9000, 2000))
    with pytest.raises(BadRequest, match="(?i)photo_invalid_dimensions"):
        await bot.send_photo(alice.id, png(2100, 100))
    with pytest.raises(BadRequest, match="(?i)photo_save_file_invalid"):
        await bot.send_photo(alice.id, b"\xff\xd8" + b"x" * (10 * 1024 * 1024))
    sent = await bot.send_photo(alice.id, png(800, 900), caption="grafiek")
    assert sent.caption == "grafiek" and sent.photo
    with pytest.raises(NetworkError, match="Request Entity Too Large"):  # a 413, as python-telegram-bot sees it
        await bot.send_document(alice.id, InputFile(b"x" * (50 * 1024 * 1024 + 1), filename="big.csv"))
    sent = await bot.send_document(alice.id, InputFile(b"a,b\n1,2\n", filename="cijfers.csv"), caption="CSV")
    assert sent.document.file_name == "cijfers.csv"
    assert tg.world.files[sent.document.file_id].content == b"a,b\n1,2\n"
