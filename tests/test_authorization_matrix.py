"""The authorization matrix: every command and button for every role, allowed or refused, on both platforms.

The whole table runs once as Telegram people in a Telegram group and once as Matrix people in a
Matrix room (the handlers answer each platform in its own words, ``key@matrix``); the
adapters' part of the same answers is proven by ``test_matrix_authorization.py`` on a real
Synapse and by the Telegram scenarios on the fake Bot API.

One park (De Spaanse Polder) with a report SP-0001 (drugs: routed to police and municipality),
filed by Erik after Mia (municipality) went away with Bram (municipality too: a backup must hold
the role) as her backup, and
a question about it from Piet. Each case runs on its own copy of that database, so no case
changes what another sees. "Refused" means the person got one of the polite refusals and
nothing changed; "allowed" means anything else (the command did its work or asked for more).
"""

import asyncio
import shutil
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.park_setup import apply_parks
from handlers import router
from handlers.clock import ManualClock
from handlers.i18n import Translator
from handlers.invites import create_invite
from handlers.messages import Chat, Sender
from handlers.buttons import RequestTool
from handlers.services import Services
from storage.db import Database, make_engine, upgrade
from storage.models import (
    AdminChange, DigestSchedule, OutboxMessage, Park, ParkLevelDraft, ParkRequest, ParkScan, ParkUpdate, Person,
    Report, ReportDraft, ReportEvent, ReportRecipient, Role, UpdateUseful,
)
from tests.handler_world import RecordingPlatform, message, private_chat
from tests.harness import OTHER_PARK, PARK, START, bot_config

PLATFORMS = ("telegram", "matrix")
CAST = {  # who: (number, name)
    "outsider": (501, "Otto"),
    "member": (502, "Mo"),
    "reporter": (503, "Erik"),
    "routed": (504, "Piet"),          # police: drugs is routed to police
    "not_routed": (505, "Frits"),     # park manager: not routed
    "other_park": (506, "Nina"),      # police of Noorderveld
    "revoked": (507, "Ruud"),         # police, revoked before the report
    "away": (508, "Mia"),             # municipality, away
    "backup": (509, "Bram"),          # municipality, Mia's backup
    "admin": (510, "Anna"),
}
PEOPLE = list(CAST)


def external_id(platform: str, who: str) -> str:
    number, name = CAST[who]
    return str(number) if platform == "telegram" else f"@{name.lower()}:weerbaar.test"


def sender_of(platform: str, who: str) -> Sender:
    return Sender(platform, external_id(platform, who), CAST[who][1], CAST[who][1].lower(), "nl")


def group_of(platform: str) -> Chat:
    chat_id = "-100500" if platform == "telegram" else "!ondernemers:weerbaar.test"
    return Chat(platform=platform, chat_id=chat_id, is_private=False, title="Ondernemers")


def group_members(platform: str) -> set[str]:
    return {external_id(platform, who) for who in ("member", "reporter", "admin")}


ROLES = {"routed": ("police", PARK), "not_routed": ("park_manager", PARK), "other_park": ("police", OTHER_PARK),
         "revoked": ("police", PARK), "away": ("municipality", PARK), "backup": ("municipality", PARK),
         "admin": ("admin", PARK)}
REFUSALS = ("report.not_found", "admin.not_admin", "input.stale_button", "open.not_official", "report.not_member",
            "group.link_not_admin", "stats.not_allowed", "update.not_official", "request.not_official",
            "scan.not_allowed", "scan.staff_only", "request.not_yours", "request.help_not_member")
OFFICIALS_OF_REPORT = {"routed", "backup"}
EVERYONE = set(PEOPLE)
ADMIN_ONLY = {"admin"}
OFFICIALS = {"routed", "not_routed", "other_park", "away", "backup"}
STAFF = OFFICIALS | ADMIN_ONLY
PARK_PEOPLE = {"member", "reporter", "admin", "routed", "not_routed", "away", "backup"}  # Spaanse Polder's

# (what is done, where, who may) — "{r}" is the report id, "{q}" the question's event id.
MATRIX = [
    ("/koppel", "group", ADMIN_ONLY),
    ("/melden", "private", {"member", "reporter", "admin"}),
    ("/open", "private", OFFICIALS),
    ("/oppakken SP-0001", "private", OFFICIALS_OF_REPORT),
    ("/feedback SP-0001 We kijken ernaar", "private", OFFICIALS_OF_REPORT),
    ("/vraag SP-0001 Welke kleur?", "private", OFFICIALS_OF_REPORT),
    ("/sluit SP-0001 Afgehandeld", "private", OFFICIALS_OF_REPORT),
    ("press r{r}:claim", "private", OFFICIALS_OF_REPORT),
    ("press r{r}:fb1", "private", OFFICIALS_OF_REPORT),
    ("press r{r}:ask", "private", OFFICIALS_OF_REPORT),
    ("press r{r}:cl1", "private", OFFICIALS_OF_REPORT),
    ("press r{r}:wd", "private", {"reporter"}),
    ("press r{r}:wdy", "private", {"reporter"}),
    ("press q{q}:ans", "private", {"reporter"}),
    ("/uitnodigen police", "private", ADMIN_ONLY),
    ("/instanties", "private", ADMIN_ONLY),
    ("/intrekken #1", "private", ADMIN_ONLY),
    ("/categorieen", "private", ADMIN_ONLY),
    ("/beleid eerste 1h", "private", ADMIN_ONLY),
    ("/beleid bewaren 2j", "private", ADMIN_ONLY),
    ("/logboek", "private", ADMIN_ONLY),
    ("/logboek melding SP-0001", "private", ADMIN_ONLY),
    ("/vergeet SP-0001", "private", ADMIN_ONLY),
    ("/statistiek", "private", ADMIN_ONLY | {"routed", "not_routed", "other_park", "away", "backup"}),
    ("/mijngegevens", "private", EVERYONE),
    ("/mijnmeldingen", "private", EVERYONE),
    ("/vergeet", "private", EVERYONE),  # only asks; the last admin is told to hand over first
    ("press fg:me", "private", EVERYONE - ADMIN_ONLY),  # the last admin cannot erase themselves
    ("press fg:{p}:{e}", "private", ADMIN_ONLY),  # an admin erases the reporter on request
    ("press fg:no", "private", EVERYONE),
    ("/uitnodigingen", "private", ADMIN_ONLY),
    ("/afwezig #5 #8", "private", ADMIN_ONLY),
    ("/terug #5", "private", ADMIN_ONLY),
    ("/categorie 1 uit", "private", ADMIN_ONLY),
    ("/beheer", "private", ADMIN_ONLY),
    ("/beleid", "private", ADMIN_ONLY),
    ("/overzicht", "private", ADMIN_ONLY),
    ("/overzicht uit", "private", ADMIN_ONLY),
    ("/scan start", "private", ADMIN_ONLY),
    ("/scan resultaten", "private", STAFF),
    ("/bericht Controle gehouden bij loods 7", "private", STAFF),
    ("/oproep Wie heeft camerabeelden?", "private", STAFF),
    # Park isolation: only the park's group members and role holders answer its request or find its update
    # useful; only the requesting official closes the request.
    ("press {tool}", "private", {"routed"}),
    ("press h:c1:{o}", "private", {"routed"}),
    ("press u:{u}:ok", "private", PARK_PEOPLE),
    ("/helpen SP-O1", "private", PARK_PEOPLE),
    ("/mijnberichten", "private", STAFF),  # the command table lets officials and admins list their own
    ("/oproepen", "private", STAFF),
    ("/parkberichten", "private", EVERYONE),
    ("/parkberichten uit", "private", EVERYONE),  # only one's own memberships
    ("/help", "private", EVERYONE),
    ("/signalen", "private", EVERYONE),
    ("/taal en", "private", EVERYONE),
    ("/stop", "private", EVERYONE),
    ("/help", "group", EVERYONE),
]


@dataclass
class Base:
    path: str
    report_id: int
    question_id: int
    request_id: int
    update_id: int
    texts: Translator
    platform: str
    park_id: int
    reporter_id: int
    tool: str  # the "close" button of request SP-O1, posted by the routed police officer


@pytest.fixture(scope="module", params=PLATFORMS)
def base(request, tmp_path_factory) -> Base:
    platform = request.param
    GROUP, GROUP_MEMBERS = group_of(platform), group_members(platform)
    path = tmp_path_factory.mktemp("matrix") / "base.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    db = Database(engine)
    config = bot_config(None)
    clock = ManualClock(START)
    texts = Translator.load()
    services = Services(db=db, clock=clock, texts=texts, platforms={platform: RecordingPlatform(GROUP_MEMBERS)})
    with db.transaction() as session:
        apply_parks(session, config)

    async def say(who: str, text: str, chat: Chat | None = None, press: str | None = None) -> None:
        sender = sender_of(platform, who)
        await router.handle(services, message(sender, chat or private_chat(sender), text=text, press=press))

    async def build() -> tuple[int, int]:
        for who, (role, park) in ROLES.items():
            with db.transaction() as session:
                code = create_invite(session, park_slug=park, role=role, allowed_roles=config.official_roles,
                                     now=clock.now(), valid_for=timedelta(days=1)).code
            await say(who, f"/start {code}")
        await say("admin", "/koppel", chat=GROUP)
        # Revoked and away as /intrekken and /afwezig leave them (those commands have their own tests).
        with db.transaction() as session:
            role_of = {person.external_id: (role, person) for role, person in session.exec(
                select(Role, Person).join(Person, Person.id == Role.person_id))}
            revoked, away = role_of[external_id(platform, "revoked")], role_of[external_id(platform, "away")]
            revoked[0].revoked_at = clock.now()
            away[0].away_since, away[0].backup_person_id = clock.now(), role_of[external_id(platform, "backup")][1].id
            session.add(revoked[0])
            session.add(away[0])
        for who in PEOPLE:  # everybody has written to the bot once (a private chat exists)
            await say(who, "/help")
        for who in PEOPLE:  # the group's members have spoken there: /melden in private asks about it
            if external_id(platform, who) in GROUP_MEMBERS:
                await say(who, "/help", chat=GROUP)
        await say("reporter", "/melden")
        for step in ("category:1", None, "when:now", None, "photos:done", "contact:anon", "urgent:no", "summary:send"):
            with Session(engine) as session:
                draft = session.exec(select(ReportDraft)).first()
            if step is None:
                await say("reporter", "Loods 7, de hele nacht busjes" if draft.step == "what" else "Loods 7")
            else:
                await say("reporter", None, press=f"d{draft.id}:{step}")
        await say("routed", "/vraag SP-0001 Hoe laat?")
        await say("routed", "/oproep Wie heeft camerabeelden van de Industrieweg?")
        with Session(engine) as session:
            preview = session.exec(select(OutboxMessage).where(
                OutboxMessage.chat_id == external_id(platform, "routed")).order_by(OutboxMessage.id.desc())).first()
        await say("routed", None, press=next(button["data"] for line in preview.choices for button in line
                                             if button["label"] == texts.on(platform)("nl", "request.post")))
        with Session(engine) as session:
            report = session.exec(select(Report)).one()
            question = session.exec(select(ReportEvent).where(ReportEvent.kind == "question")).one()
            request_id = session.exec(select(ParkRequest)).one().id
        await say("admin", "/bericht Controle gehouden")  # an update to the group
        for step, value in (("photo", "none"), ("audience", "next"), ("sign", "role"), ("preview", "send")):
            await say("admin", None, press=f"k:{park_draft()}:{step}:{value}")
        with Session(engine) as session:
            update_id = session.exec(select(ParkUpdate)).one().id
        return report.id, question.id, report.park_id, report.reporter_person_id, request_id, update_id

    def park_draft() -> int:
        with Session(engine) as session:
            return session.exec(select(ParkLevelDraft)).one().id

    report_id, question_id, park_id, reporter_id, request_id, update_id = asyncio.run(build())
    engine.dispose()
    return Base(str(path), report_id, question_id, request_id, update_id, texts, platform, park_id, reporter_id,
                RequestTool("c", request_id).pack())


def test_the_base_is_what_the_matrix_assumes(base):
    engine = make_engine(f"sqlite:///{base.path}")
    with Session(engine) as session:
        report = session.get(Report, base.report_id)
        recipients = {person.display_name for person in session.exec(select(Person).join(
            ReportRecipient, Person.id == ReportRecipient.person_id))}
    engine.dispose()
    assert report.number == 1 and report.status == "open" and report.roles == ["police", "municipality"]
    assert recipients == {"Piet", "Bram"}  # Mia is away: Bram stands in; Ruud was revoked


CASES = [(action, where, who, who in allowed) for action, where, allowed in MATRIX for who in PEOPLE]


@pytest.mark.parametrize(("action", "where", "who", "allowed"), CASES,
                         ids=[f"{who}:{action.split(' ')[0] if not action.startswith('press') else action}"
                              for action, where, who, allowed in CASES])
def test_authorization(base, tmp_path, action, where, who, allowed):
    copy = tmp_path / "case.db"
    shutil.copyfile(base.path, copy)
    engine = make_engine(f"sqlite:///{copy}")
    platform = base.platform
    services = Services(db=Database(engine), clock=ManualClock(START + timedelta(minutes=5)), texts=base.texts,
                        platforms={platform: RecordingPlatform(group_members(platform))})
    sender = sender_of(platform, who)
    chat = group_of(platform) if where == "group" else private_chat(sender)
    text = action.format(r=base.report_id, q=base.question_id, p=base.park_id, e=base.reporter_id, tool=base.tool,
                         o=base.request_id, u=base.update_id)
    with Session(engine) as session:
        last = session.exec(select(OutboxMessage.id).order_by(OutboxMessage.id.desc())).first() or 0
        before = _state(session)
    if text.startswith("press "):
        incoming = message(sender, chat, press=text[len("press "):])
    else:
        incoming = message(sender, chat, text=text)
    outcome = asyncio.run(router.handle(services, incoming))
    with Session(engine) as session:
        answers = [row.text or "" for row in session.exec(select(OutboxMessage).where(
            OutboxMessage.id > last, OutboxMessage.chat_id == chat.chat_id))]
        after = _state(session)
    engine.dispose()
    shown = answers + ([outcome.toast] if outcome.toast else [])
    assert shown, f"{who} got no answer to {action}"
    texts = base.texts.on(platform)
    refusals = {key: _first(texts.template("nl", key)) for key in REFUSALS if texts.has(key)}
    refused = [key for key, refusal in refusals.items() if any(refusal.split("{")[0][:40] in text_ for text_ in shown)]
    if allowed:
        assert not refused, f"{who} was refused {action}: {shown}"
    else:
        assert refused, f"{who} was allowed {action}: {shown}"
        assert after == before, f"a refused {action} by {who} changed something"


def _first(template) -> str:
    """A refusal's raw text (the singular of a plural), to find its start before any placeholder."""
    return template[0] if isinstance(template, tuple) else str(template)


def _state(session: Session) -> tuple:
    """What a refused action must leave alone: the report, its events, roles, the park's policy and its park-level
    state."""
    report = session.exec(select(Report)).one()
    return (report.status, report.lead_person_id, report.first_feedback_at, report.anonymous,
            len(session.exec(select(ReportEvent)).all()), len(session.exec(select(AdminChange)).all()),
            tuple((role.id, role.revoked_at) for role in session.exec(select(Role))),
            tuple((park.first_reminder_after_s, park.retention_s) for park in session.exec(select(Park))),
            # park level: requests, updates and their useful marks, conversations, scans, digest schedules
            tuple(request.status for request in session.exec(select(ParkRequest))),
            len(session.exec(select(ParkUpdate)).all()), len(session.exec(select(UpdateUseful)).all()),
            len(session.exec(select(ParkLevelDraft)).all()), len(session.exec(select(ParkScan)).all()),
            tuple(schedule.enabled for schedule in session.exec(select(DigestSchedule))))
