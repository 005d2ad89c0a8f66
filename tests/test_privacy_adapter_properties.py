"""Proven confidentiality through the real Telegram stack: random report flows, hostile input, every step checked.

``test_privacy_properties.py`` drives the handlers directly, fast enough for many examples.
This one drives the whole bot: python-telegram-bot's real HTTP stack against the fake Bot API
(which parses ``parse_mode=HTML`` as strictly as Telegram and refuses malformed entities), the
inbox, the outbox and the dispatcher. Each example is a new reporter with a hostile name who
joins the park's group, follows ``/melden`` into the private chat and files a report, led by
the draft's step but disturbed before every step by something random: a photo (with a hostile
caption), a location, a sticker, a document, a forwarded message, an edit of an earlier
message, a 4,096-character text, a stale button. Officials then ask, get an answer, give
feedback and press random buttons; the reporter does random things. After every step:

* the step is answered (a message, or a button's toast) — edits and stickers too;
* no message in the group carries anything the reporter wrote;
* no message, caption, button label, callback data or link to an official carries the
  anonymous reporter's name, username or Telegram id;
* every message the bot sent was accepted by the fake Bot API (no malformed HTML) and every
  user text in it reads back exactly as typed: escaped exactly once;
* a step answered with a refusal changed no draft, report, history or waiting prompt.

After each example no log line (the bot's own, python-telegram-bot's, the HTTP client's, at
DEBUG) carries the reporter's identity or anything anybody typed.
"""

import logging
import random
import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st
from sqlmodel import Session, col, select

from bot.safe_logging import keep_content_out_of_library_logs
from storage.models import OutboxMessage, Report, ReportDraft
from tests.databases import fresh_database
from tests.test_privacy_properties import LogLines, hostile_text, untouched_state
from tests.telegram_people import button, say

REFUSALS = ("input.too_long", "input.empty", "input.stale_button", "input.text_expected", "input.use_buttons",
            "input.edit_ignored", "report.not_found")
DISTURBANCES = ("none", "none", "photo", "location", "sticker", "document", "forward", "edit", "long", "text",
                "stale")
LATER_STEPS = st.one_of(
    st.tuples(st.just("press"), st.integers(0, 20)),
    st.tuples(st.just("disturb"), st.sampled_from(DISTURBANCES)),
    st.tuples(st.just("command"), st.sampled_from(["/mijnmeldingen", "/mijngegevens", "/melden", "/help", "/open",
                                                    "/stop", "/signalen"])),
    st.tuples(st.just("official_press"), st.integers(0, 60)),
    st.tuples(st.just("official_text"), st.integers(0, 3)),
    st.tuples(st.just("official_command"), st.sampled_from(["/oppakken", "/feedback", "/vraag", "/logboek melding"])),
)


@pytest.fixture
def database(tmp_path):
    """SQLite only: the stack, not the database, is under test here (and examples must stay quick)."""
    with fresh_database("sqlite", tmp_path) as db:
        yield db


@st.composite
def scenarios(draw):
    marker_id = draw(st.integers(10_000, 99_999))
    marker = f"q{marker_id}z"
    return {
        "marker_id": marker_id,
        "texts": [draw(hostile_text(f"{marker}t{index}")) for index in range(4)],
        "name": draw(hostile_text(f"Nm{marker_id}")),
        "named": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**32 - 1)),
        "later": draw(st.lists(LATER_STEPS, max_size=10)),
    }


# Found cases stay (see the module docstring of test_privacy_properties for the handler-level ones).
FOUND_DIRECTION_OVERRIDES = {"marker_id": 31337, "texts": ["\u202eq31337zt0 <b>", "q31337zt1 \u200b&amp; </a>",
                                                           "q31337zt2 " + "&" * 4000, "\u2066q31337zt3\u2069"],
                             "name": "<i>Nm31337</i> \u202e\u200d", "named": False, "seed": 7,
                             "later": [("disturb", "edit"), ("command", "/mijngegevens"), ("official_press", 3),
                                       ("disturb", "forward"), ("press", 1)]}

# The oracle once took "SP-0005 …" for the free text of "/logboek melding SP-0005 …" (two command words).
FOUND_TWO_WORD_COMMAND = {"marker_id": 99999, "texts": ["q99999zt0 %s", "q99999zt1 @everyone", "\u00cf q99999zt2",
                                                         "\u202dq99999zt3"],
                          "name": "Nm99999", "named": False, "seed": 274502,
                          "later": [("official_command", "/logboek melding"), ("disturb", "document"),
                                    ("official_command", "/vraag")]}


@given(scenario=scenarios())
@example(scenario=FOUND_DIRECTION_OVERRIDES)
@example(scenario=FOUND_TWO_WORD_COMMAND)
# Whole flows take seconds each: no shrinking (a failure prints its example and seed; keep it as @example).
@settings(max_examples=12, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
async def test_random_flows_through_telegram_keep_every_promise(bot, server, cast, scenario):
    flow = Flow(bot, server, cast, scenario)
    log_lines = LogLines()
    root = logging.getLogger()
    previous_level = root.level
    restore = keep_content_out_of_library_logs()  # as the bot's process does at start
    root.addHandler(log_lines)
    root.setLevel(logging.DEBUG)
    try:
        await flow.run()
        assert flow.compared and flow.to_officials, "the flow never showed a text back or reached an official"
    finally:
        root.removeHandler(log_lines)
        root.setLevel(previous_level)
        restore()
    for line in log_lines.lines:
        if line.startswith(("bot.botapi_simulator", "aiohttp")):
            continue  # the fake Telegram's own lines: Telegram's side, not the bot's
        for secret in flow.identity():
            assert secret not in line, f"the reporter's identity reached a log line: {line[:300]!r}"
        assert f"q{scenario['marker_id']}z" not in line, f"user text reached a log line: {line[:300]!r}"


class Flow:
    """One example: a reporter, their report and what follows, checked after every step."""

    serial = 0

    def __init__(self, bot, server, cast, scenario: dict):
        Flow.serial += 1
        self.bot, self.server, self.cast = bot, server, cast
        self.s = scenario
        self.random = random.Random(scenario["seed"])
        self.marker = f"q{scenario['marker_id']}z"
        self.reporter = server.add_user((scenario["name"] or "x")[:64], username=f"usr{scenario['marker_id']}x{Flow.serial}",
                                        language_code="nl")
        server.add_member(cast.group, self.reporter)
        self.typed: list[str] = []
        self.own_texts: list[dict] = []
        self.officials = [cast.police, cast.municipality, cast.fire, cast.admin]
        self.number: str | None = None
        self.compared = 0  # user texts found in a message and checked to read as typed
        self.to_officials = 0  # messages to officials checked for the reporter's identity

    def identity(self) -> list[str]:
        return [self.reporter.first_name, self.reporter.username, str(self.reporter.id), f"Nm{self.s['marker_id']}"]

    # ---- the example ----------------------------------------------------------------------------

    async def run(self) -> None:
        self.bot.clock.advance(timedelta(days=1))  # a new day: yesterday's limits do not apply
        await self.step(self.reporter, self.cast.group, lambda: self.reporter.send(self.cast.group, "/melden"))
        link = button(self.server.messages(self.cast.group)[-1], "")["url"]
        await self.step(self.reporter, self.reporter.private, lambda: self.reporter.open_link(link))
        for _ in range(40):
            step = self.draft_step()
            if step is None:
                break
            await self.disturb(self.random.choice(DISTURBANCES))
            await self.advance(self.draft_step() or "")
        with Session(self.bot.db.engine) as session:
            report = session.exec(select(Report).order_by(col(Report.id).desc())).first()
        assert report is not None and self.draft_step() is None, "the guided report was not sent"
        self.number = f"SP-{report.number:04d}"
        police = self.cast.police
        question = self.text(2)
        await self.official_says(police, f"/vraag {self.number} {question}", typed=question)
        await self.press_ending(self.reporter, ":ans")
        await self.say(self.reporter, self.text(3))
        await self.press_ending(police, ":fb")
        await self.press_index(police, 0)
        for kind, value in self.s["later"]:
            official = self.officials[value % len(self.officials)] if isinstance(value, int) else police
            if kind == "press":
                await self.press_index(self.reporter, value)
            elif kind == "disturb":
                await self.disturb(value)
            elif kind == "command":
                await self.step(self.reporter, self.reporter.private, lambda v=value: self.reporter.send(
                    self.reporter.private, v))
            elif kind == "official_press":
                await self.press_index(official, value)
            elif kind == "official_text":
                await self.official_says(official, self.text(value))
            elif kind == "official_command":
                free_text = self.text(2)
                await self.official_says(police, f"{value} {self.number} {free_text}", typed=free_text)

    def draft_step(self) -> str | None:
        with Session(self.bot.db.engine) as session:
            draft = session.exec(select(ReportDraft).where(ReportDraft.person_id == self.person_id(session))).first()
            return draft.step if draft else None

    def person_id(self, session) -> int | None:
        from storage.models import Person

        person = session.exec(select(Person).where(Person.platform == "telegram",
                                                   Person.external_id == str(self.reporter.id))).first()
        return person.id if person else None

    async def advance(self, step: str) -> None:
        """The draft's step answered as a person would, with hostile texts."""
        pick = self.random.random()
        if step == "category":
            await self.press_where(self.reporter, lambda data: data.rsplit(":", 1)[-1].isdigit())
        elif step == "where":
            if pick < 0.3:
                await self.step(self.reporter, self.reporter.private,
                                lambda: self.reporter.send_location(self.reporter.private, 51.9, 4.4))
            else:
                await self.say(self.reporter, self.text(0) if pick < 0.8 else self.fitting(0))
        elif step == "when":
            if pick < 0.6:
                await self.press_ending(self.reporter, ":now")
            else:
                await self.say(self.reporter, self.text(1) if pick < 0.8 else self.fitting(1))
        elif step in ("when_detail", "what"):
            await self.say(self.reporter, self.text(1) if pick < 0.6 else self.fitting(1))
        elif step == "photos":
            if pick < 0.4:
                await self.photo()
            else:
                await self.press_ending(self.reporter, ":done")
        elif step == "contact":
            await self.press_ending(self.reporter, ":named" if self.s["named"] else ":anon")
        elif step == "urgent":
            await self.press_ending(self.reporter, ":yes" if pick < 0.3 else ":no")
        elif step == "summary":
            await self.press_ending(self.reporter, ":send")
        elif step == "change":
            await self.press_ending(self.reporter, ":back")

    async def disturb(self, kind: str) -> None:
        reporter, private = self.reporter, self.reporter.private
        if kind == "photo":
            await self.photo()
        elif kind == "location":
            await self.step(reporter, private, lambda: reporter.send_location(private, 52.0, 4.3))
        elif kind == "sticker":
            await self.step(reporter, private, lambda: reporter.send_sticker(private))
        elif kind == "document":
            await self.step(reporter, private, lambda: reporter.send_document(
                private, caption=self.typed_text(self.text(0))))
        elif kind == "forward":
            await self.step(reporter, private, lambda: reporter.forward(private, self.typed_text(self.text(1))))
        elif kind == "edit" and self.own_texts:
            await self.step(reporter, private, lambda: reporter.edit(self.own_texts[-1], self.typed_text(
                self.text(3))))
        elif kind == "long":
            await self.say(reporter, (f"{self.marker}t9 " + "<&>\u202e\u200b" * 1024)[:4096])
        elif kind == "text":
            await self.say(reporter, self.text(self.random.randrange(4)))
        elif kind == "stale":
            messages = [m for m in self.server.messages(private)[:-3] if m.callback_data()]
            if messages:
                message = self.random.choice(messages)
                data = self.random.choice(message.callback_data())
                await self.step(reporter, private, lambda: reporter.press(message, data))

    # ---- acting -------------------------------------------------------------------------------

    def text(self, index: int) -> str:
        return self.s["texts"][index]

    def fitting(self, index: int) -> str:
        """A short hostile text every step accepts, so the flow goes on."""
        return f"<b>{self.marker}f{index}</b> & \u202e\u200b"

    def typed_text(self, text: str) -> str:
        self.typed.append(text)
        return text

    async def say(self, user, text: str) -> None:
        self.typed.append(text)
        sent = {}

        def send():
            sent.update(user.send(user.private, text))

        await self.step(user, user.private, send)
        if user is self.reporter and not text.startswith("/"):
            self.own_texts.append(sent)

    async def official_says(self, official, text: str, typed: str | None = None) -> None:
        """``typed``: the free text of a command (``/logboek melding SP-0005 …`` has two words before the number)."""
        self.typed.append(text if typed is None else typed)
        await self.step(official, official.private, lambda: official.send(official.private, text))

    async def photo(self) -> None:
        caption = self.random.choice([None, self.fitting(2), self.text(2)])
        if caption:
            self.typed.append(caption)
        await self.step(self.reporter, self.reporter.private,
                        lambda: self.reporter.send_photo(self.reporter.private, caption=caption))

    def last_buttons(self, user) -> tuple[object, list[str]]:
        for message in reversed(self.server.messages(user.private)[-6:]):
            if message.callback_data():
                return message, message.callback_data()
        return None, []

    async def press_where(self, user, wanted) -> None:
        message, data = self.last_buttons(user)
        choices = [d for d in data if wanted(d)]
        if choices:
            choice = self.random.choice(choices)
            await self.step(user, user.private, lambda: user.press(message, choice))

    async def press_ending(self, user, ending: str) -> None:
        await self.press_where(user, lambda data: data.endswith(ending))

    async def press_index(self, user, index: int) -> None:
        message, data = self.last_buttons(user)
        data = [d for d in data if self.s["named"] or not d.endswith(":named")]
        if data:
            choice = data[index % len(data)]
            await self.step(user, user.private, lambda: user.press(message, choice))

    # ---- the checks after every step ----------------------------------------------------------

    async def step(self, user, chat, act) -> None:
        sent_before, callbacks_before = len(self.server.sent), len(self.server.answered_callbacks)
        state_before = self.state()
        act()
        await self.bot.settle()
        new = self.server.sent[sent_before:]
        toasts = [c.text for c in self.server.answered_callbacks[callbacks_before:] if c.text]
        answered = [m for m in new if m.chat_id in (chat.id, user.private.id)]
        assert answered or toasts, f"no answer to a step of {user.first_name!r} in {chat}"
        self.check_outbox()
        for message in new:
            self.check_message(message)
        if any((m.text or m.caption).startswith(refusal) for m in answered for refusal in self.refusals()) or any(
                toast.startswith(refusal) for toast in toasts for refusal in self.refusals()):
            assert self.state() == state_before, "a refused step changed something"

    def check_outbox(self) -> None:
        with Session(self.bot.db.engine) as session:
            broken = session.exec(select(OutboxMessage).where(col(OutboxMessage.error).is_not(None))).all()
        assert not broken, f"Telegram refused a message: {[(row.purpose, row.error) for row in broken]}"

    def check_message(self, message) -> None:
        plain = message.text or message.caption
        if message.chat_id == self.cast.group.id:
            assert self.marker not in plain, "report content reached the group"
        for text in self.typed:
            words = re.findall(rf"{self.marker}[a-z0-9]+", text)
            if any(word in plain for word in words) and len(text) <= 1500 and len(plain) < 4000:
                assert text.strip() in plain, ("escaped other than once", text, plain)
                self.compared += 1
        if message.chat_id in {official.id for official in self.officials}:
            self.to_officials += 1
        if message.chat_id in {official.id for official in self.officials} and not self.s["named"]:
            visible = " ".join([plain, *(f"{b.get('text')} {b.get('callback_data')} {b.get('url')}"
                                         for row in message.buttons for b in row)])
            for secret in self.identity():
                assert secret not in visible, "an anonymous reporter's identity reached an official"

    def refusals(self) -> list[str]:
        texts = self.bot.app.services.texts
        return [str(texts(language, key, max=0, length=0)).split("0")[0][:40]
                for key in REFUSALS for language in ("nl", "en")]

    def state(self) -> tuple:
        return untouched_state(self.bot.db.engine)


async def test_python_telegram_bot_s_debug_lines_never_carry_names_or_texts(bot, server, cast):
    """Found by the property above: at DEBUG, PTB logs every Bot API call with its parameters and answer."""
    lines = LogLines()
    root, previous = logging.getLogger(), logging.getLogger().level
    restore = keep_content_out_of_library_logs()
    root.addHandler(lines)
    root.setLevel(logging.DEBUG)
    try:
        await say(bot, cast.erik, cast.erik.private, "/help Loods 7 geheim")
    finally:
        root.removeHandler(lines)
        root.setLevel(previous)
        restore()
    assert not [line for line in lines.lines if "erik_ondernemer" in line or "Loods 7 geheim" in line]


async def test_an_edit_is_answered_and_changes_nothing(bot, server, cast):
    """Telegram sends edits as ``edited_message``: the bot says it does not take them over."""
    sent = cast.erik.send(cast.erik.private, "/help")
    await bot.settle()
    before = len(server.messages(cast.erik.private))
    cast.erik.edit(sent, "Busjes bij loods 7")
    await bot.settle()
    [answer] = server.messages(cast.erik.private)[before:]
    assert answer.text.startswith("Een bewerkt bericht neem ik niet over")
    group_message = cast.erik.send(cast.group, "/melden")
    await bot.settle()
    in_group = len(server.messages(cast.group))
    cast.erik.edit(group_message, "/melden nu")
    await bot.settle()
    assert len(server.messages(cast.group)) == in_group  # in a group an edit is chatter
    assert await say(bot, cast.erik, cast.erik.private, "/mijnmeldingen")  # still answering


async def test_documents_and_forwarded_messages_get_an_answer_in_the_report_flow(bot, server, cast):
    from tests.telegram_people import open_report_from_group, press

    await open_report_from_group(bot, server, cast.erik, cast.group)
    await press(bot, server, cast.erik, "Drugs")
    cast.erik.send_document(cast.erik.private, caption="Loods 7")
    await bot.settle()
    assert "Ik verwacht hier tekst" in server.messages(cast.erik.private)[-2].text
    cast.erik.forward(cast.erik.private, "Loods 7 <achter>", from_name="Iemand Anders")
    await bot.settle()
    with Session(bot.db.engine) as session:
        draft = session.exec(select(ReportDraft)).one()
    assert draft.data["where_text"] == "Loods 7 <achter>"  # a forwarded text counts as the person's own
    assert "Iemand Anders" not in repr(draft.data)
