"""Proven confidentiality on Matrix: a small set of random report flows on the real Synapse, end to end encrypted.

The smaller sibling of ``test_privacy_adapter_properties.py`` (Telegram): each example is a new
Matrix person with a hostile display name who joins the park's room, says ``!melden`` there and
files a report in the direct chat the bot opens, answering the draft's questions with hostile
texts and numbered choices, disturbed before every step by a photo (with a hostile caption), a
location, an edit of an earlier message or a hostile text. The police asks a question, the
reporter answers it, the police gives feedback. Checked:

* every step in the direct chat is answered with a notice (edits too);
* nothing the reporter wrote reaches the park's room;
* no notice to an official carries an anonymous reporter's display name or Matrix id;
* every user text shown reads back exactly as typed, in the plain ``body`` and in the
  ``formatted_body`` as a client renders it: escaped exactly once;
* no log line (the bot's, nio's, at DEBUG with the library floors) carries the identity or a text;
* a step answered with a refusal changed nothing.
"""

import html
import logging
import random
import re
from datetime import timedelta
from html.parser import HTMLParser

from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st
from sqlmodel import Session, select

from bot.safe_logging import keep_content_out_of_library_logs
from storage.models import Person, Report, ReportDraft
from tests.test_privacy_adapter_properties import Flow
from tests.test_privacy_properties import LogLines

PIECES = ["<b>vet</b>", "<i>", "</a>", "&amp;", "&", "<", ">", "&lt;x&gt;", "\u202e", "\u2066", "\u200b", "\ufeff",
          "`code`", "*ster*", "_lijn_", "@room", "!melden", "SP-0001", "🙂", "e\u0301", "\"'", "{number}", "%s"]
DISTURBANCES = ("none", "none", "photo", "location", "edit", "text")


def hostile(marker: str) -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(PIECES), st.text(st.characters(
        blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=8))
    return st.tuples(st.lists(piece, max_size=3), st.lists(piece, max_size=3)).map(
        lambda parts: ("".join(parts[0]) + f" {marker} " + "".join(parts[1])).strip())


@st.composite
def scenarios(draw):
    marker_id = draw(st.integers(10_000, 99_999))
    marker = f"q{marker_id}z"
    return {"marker_id": marker_id, "texts": [draw(hostile(f"{marker}t{index}")) for index in range(4)],
            "name": draw(hostile(f"Nm{marker_id}")), "named": draw(st.booleans()),
            "seed": draw(st.integers(0, 2**32 - 1))}


FOUND_MARKUP_NAME = {"marker_id": 42424, "texts": ["<b>q42424zt0</b> &amp;", "\u202eq42424zt1 </a>",
                                                   "q42424zt2 <i>", "@room q42424zt3 &"],
                     "name": "<a href='x'>Nm42424</a> \u202e", "named": False, "seed": 3}


@given(scenario=scenarios())
@example(scenario=FOUND_MARKUP_NAME)
@settings(max_examples=2, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
async def test_random_flows_through_matrix_keep_every_promise(world, scenario):
    cast = await MatrixCast.of(world)
    flow = MatrixFlow(world, cast, scenario)
    await flow.join()  # the test's own client makes its account and keys: its log lines are not the bot's
    log_lines = LogLines()
    root, previous = logging.getLogger(), logging.getLogger().level
    restore = keep_content_out_of_library_logs()
    root.addHandler(log_lines)
    root.setLevel(logging.DEBUG)
    try:
        await flow.run()
    finally:
        root.removeHandler(log_lines)
        root.setLevel(previous)
        restore()
    for line in log_lines.lines:
        for secret in flow.identity():
            assert secret not in line, f"the reporter's identity reached a log line: {line[:300]!r}"
        assert flow.marker not in line, f"user text reached a log line: {line[:300]!r}"


class MatrixCast:
    """The admin, the police and the park's linked room; made once per test, shared by its examples."""

    made: dict[int, "MatrixCast"] = {}

    def __init__(self, anna, piet, room):
        self.anna, self.piet, self.room = anna, piet, room

    @classmethod
    async def of(cls, world) -> "MatrixCast":
        if id(world) not in cls.made:
            anna, piet = await world.person("anna"), await world.person("piet")
            await world.verify(anna, "admin")
            await world.verify(piet, "police")
            room = await world.open_room(anna, [])
            await world.invite_bot(anna, room)
            await world.bot_joins(anna, room)
            await world.tell(anna, room, "!koppel")
            cls.made = {id(world): cls(anna, piet, room)}
        return cls.made[id(world)]


class MatrixFlow:
    serial = 0

    def __init__(self, world, cast: MatrixCast, scenario: dict):
        MatrixFlow.serial += 1
        self.world, self.cast, self.s = world, cast, scenario
        self.random = random.Random(scenario["seed"])
        self.marker = f"q{scenario['marker_id']}z"
        self.typed: list[str] = []
        self.own_events: list[str] = []
        self.reporter = None

    def identity(self) -> list[str]:
        user_id = self.reporter.user_id
        return [self.s["name"], user_id, user_id.split(":")[0].lstrip("@"), f"Nm{self.s['marker_id']}"]

    async def join(self) -> None:
        world, cast = self.world, self.cast
        self.world.clock.advance(timedelta(days=1))  # a new day: yesterday's limits do not apply
        self.reporter = reporter = await world.person(f"rep{self.s['marker_id']}x{MatrixFlow.serial}")
        await reporter.client.set_displayname(self.s["name"])
        invited = await cast.anna.client.room_invite(cast.room, reporter.user_id)
        assert type(invited).__name__ == "RoomInviteResponse", invited
        await reporter.sync_until(lambda: cast.room in reporter.client.invited_rooms, "the room invite")
        await reporter.client.join(cast.room)
        await reporter.sync_until(lambda: cast.room in reporter.client.rooms, "the own join")
        reporter.undecrypted.clear()  # the room's history from before joining: not theirs to read

    async def run(self) -> None:
        world, cast, reporter = self.world, self.cast, self.reporter
        before = {room: len(cast.anna.all_notices(room)) for room in (cast.room,)}
        piet_before = len(cast.piet.all_notices(cast.piet.dm))
        await world.settle(await reporter.say(cast.room, "!melden"))
        await reporter.sync_until(lambda: reporter.dm is not None and reporter.dm in reporter.client.rooms,
                                  "the bot's direct chat")
        await reporter.expect(None, "Kies een soort")
        for _ in range(30):
            step = self.draft_step()
            if step is None:
                break
            await self.disturb(self.random.choice(DISTURBANCES))
            await self.advance(self.draft_step() or "")
        assert self.draft_step() is None, "the report was not sent"
        with Session(world.db.engine) as session:
            report = session.exec(select(Report).order_by(Report.id.desc())).first()
        number = f"SP-{report.number:04d}"
        self.typed.append(self.s["texts"][2])
        await world.tell(cast.piet, cast.piet.dm, f"!vraag {number} {self.s['texts'][2]}")
        await self.step(lambda: reporter.say(reporter.dm, "1"))  # "answer" is the only choice under the question
        await self.say(self.s["texts"][3])
        self.typed.append(self.s["texts"][1])
        await world.tell(cast.piet, cast.piet.dm, f"!feedback {number} {self.s['texts'][1]}")

        await cast.piet.sync()
        await cast.anna.sync()
        for notice in cast.anna.all_notices(cast.room)[before[cast.room]:]:
            assert self.marker not in notice.body + notice.html, "report content reached the park's room"
        official_notices = cast.piet.all_notices(cast.piet.dm)[piet_before:]
        assert official_notices, "the report never reached the police"
        for notice in official_notices:
            self.check_escaping(notice)
            if not self.s["named"]:
                for secret in self.identity():
                    assert secret not in notice.body and html.escape(secret) not in notice.html, \
                        "an anonymous reporter's identity reached an official"
        for notice in reporter.all_notices(reporter.dm):
            self.check_escaping(notice)

    def draft_step(self) -> str | None:
        with Session(self.world.db.engine) as session:
            person = session.exec(select(Person).where(Person.platform == "matrix",
                                                       Person.external_id == self.reporter.user_id)).first()
            draft = session.exec(select(ReportDraft).where(ReportDraft.person_id == person.id)).first() if person else None
            return draft.step if draft else None

    async def advance(self, step: str) -> None:
        pick = self.random.random()
        texts = self.s["texts"]
        choice = {"category": "1", "when": "1", "photos": "1", "contact": "2" if self.s["named"] else "1",
                  "urgent": "2", "summary": "1", "change": str(8)}.get(step)
        if step in ("where", "what", "when_detail"):
            await self.say(texts[0 if step == "where" else 1] if pick < 0.7 else f"<b>{self.marker}f</b> & \u202e")
        elif step == "photos" and pick < 0.3:
            await self.photo()
        elif choice is not None:
            await self.step(lambda: self.reporter.say(self.reporter.dm, choice))

    async def disturb(self, kind: str) -> None:
        reporter = self.reporter
        if kind == "photo":
            await self.photo()
        elif kind == "location":
            await self.step(lambda: reporter.send_location(reporter.dm, 51.9, 4.4))
        elif kind == "edit" and self.own_events:
            new_text = self.s["texts"][3]
            self.typed.append(new_text)
            content = {"msgtype": "m.text", "body": f"* {new_text}",
                       "m.new_content": {"msgtype": "m.text", "body": new_text},
                       "m.relates_to": {"rel_type": "m.replace", "event_id": self.own_events[-1]}}
            await self.step(lambda: reporter._send(reporter.dm, content))
        elif kind == "text":
            await self.say(self.s["texts"][self.random.randrange(4)])

    async def photo(self) -> None:
        caption = self.random.choice([None, self.s["texts"][2]])
        if caption:
            self.typed.append(caption)
        from tests.photos import jpeg_with_metadata

        await self.step(lambda: self.reporter.send_image(self.reporter.dm, jpeg_with_metadata(), caption=caption))

    async def say(self, text: str) -> None:
        self.typed.append(text)

        async def send() -> str:
            event_id = await self.reporter.say(self.reporter.dm, text)
            self.own_events.append(event_id)
            return event_id

        await self.step(send)

    async def step(self, act) -> None:
        reporter = self.reporter
        before = len(reporter.all_notices(reporter.dm))
        state_before = Flow.state(self)
        await self.world.settle(await act())
        await reporter.sync_until(lambda: len(reporter.all_notices(reporter.dm)) > before, "an answer to the step")
        answers = reporter.all_notices(reporter.dm)[before:]
        reporter.read_upto[reporter.dm] = len(reporter.all_notices(reporter.dm))
        if any(answer.body.startswith(refusal) for answer in answers for refusal in self.refusals()):
            assert Flow.state(self) == state_before, "a refused step changed something"

    @property
    def bot(self):
        return self.world.bot

    def refusals(self) -> list[str]:
        texts = self.world.bot.app.services.texts.on("matrix")
        keys = ("input.too_long", "input.empty", "input.stale_button", "input.text_expected", "input.use_buttons",
                "matrix.edit_ignored")
        return [str(texts("nl", key, max=0, length=0)).split("0")[0][:40] for key in keys]

    def check_escaping(self, notice) -> None:
        rendered = rendered_text(notice.html) if notice.html else notice.body
        for text in self.typed:
            words = re.findall(rf"{self.marker}[a-z0-9]+", text)
            if any(word in notice.body for word in words):
                assert text.strip() in notice.body, ("body", text, notice.body)
                assert text.strip() in rendered, ("formatted_body", text, rendered)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def rendered_text(formatted: str) -> str:
    """What a Matrix client shows of a ``formatted_body``: the text with entities read once."""
    parser = _Text()
    parser.feed(formatted)
    parser.close()
    return "".join(parser.parts)
