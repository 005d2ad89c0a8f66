"""People on Matrix for the end-to-end scenarios: real nio clients with E2EE, talking to the real bot.

``MatrixPerson`` wraps a logged-in ``AsyncClient``: it says things (``say``), sends photos
and locations, accepts invites, and collects the bot's notices per room (decrypted), so
a test reads what a person would read: ``await erik.expect(erik.dm, "SP-0001")``.
``MatrixWorld`` holds the bot (a ``Harness`` with a ``[matrix]`` section) and the people.
Nothing waits on time: every wait is a sync on the homeserver or a condition with a timeout.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from nio import (
    AsyncClient,
    EnableEncryptionBuilder,
    JoinResponse,
    MatrixRoom,
    MegolmEvent,
    RoomCreateResponse,
    RoomMessage,
    RoomPreset,
    RoomSendResponse,
    UploadResponse,
)
from nio.crypto.attachments import encrypt_attachment

from handlers.clock import ManualClock
from storage.db import Database
from tests.harness import Harness
from tests.matrix_fixtures import make_matrix_user, sync_client
from tests.matrix_homeserver import SynapseServer

WAIT = 20.0


@dataclass
class Notice:
    room_id: str
    event_id: str
    body: str
    html: str
    content: dict


@dataclass
class MatrixPerson:
    client: AsyncClient
    name: str
    bot_user_id: str
    notices: dict[str, list[Notice]] = field(default_factory=dict)
    images: dict[str, list[dict]] = field(default_factory=dict)
    locations: dict[str, list[dict]] = field(default_factory=dict)
    files: dict[str, list[dict]] = field(default_factory=dict)
    undecrypted: list[MegolmEvent] = field(default_factory=list)
    dm: str | None = None
    read_upto: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.client.add_event_callback(self._on_event, (RoomMessage, MegolmEvent))

    @property
    def user_id(self) -> str:
        return self.client.user_id

    async def _on_event(self, room: MatrixRoom, event) -> None:
        if isinstance(event, MegolmEvent):
            self.undecrypted.append(event)
            return
        if event.sender != self.bot_user_id:
            return
        content = event.source.get("content", {})
        msgtype = content.get("msgtype")
        if msgtype == "m.notice":
            self.notices.setdefault(room.room_id, []).append(Notice(
                room.room_id, event.event_id, content.get("body", ""), content.get("formatted_body", ""), content))
        elif msgtype == "m.image":
            self.images.setdefault(room.room_id, []).append(content)
        elif msgtype == "m.location":
            self.locations.setdefault(room.room_id, []).append(content)
        elif msgtype in ("m.file", "m.video"):
            self.files.setdefault(room.room_id, []).append(content)

    async def sync(self, timeout_ms: int = 1000) -> None:
        await sync_client(self.client, timeout_ms=timeout_ms)
        for room_id, room in list(self.client.invited_rooms.items()):
            if room.inviter == self.bot_user_id:
                joined = await self.client.join(room_id)
                assert isinstance(joined, JoinResponse), joined
                self.dm = room_id

    async def sync_until(self, condition, what: str, timeout: float = WAIT) -> None:
        async def one_sync() -> None:
            await self.sync()

        try:
            import asyncio

            async with asyncio.timeout(timeout):
                while not condition():
                    await one_sync()
        except TimeoutError:
            raise AssertionError(f"{self.name}: {what} not reached within {timeout:.0f} s") from None

    # ---- saying things ------------------------------------------------------------------------

    async def _send(self, room_id: str, content: dict) -> str:
        response = await self.client.room_send(room_id, "m.room.message", content, ignore_unverified_devices=True)
        assert isinstance(response, RoomSendResponse), response
        return response.event_id

    async def say(self, room_id: str, text: str) -> str:
        return await self._send(room_id, {"msgtype": "m.text", "body": text})

    async def send_image(self, room_id: str, data: bytes, encrypted: bool = True, caption: str | None = None) -> str:
        payload, keys = encrypt_attachment(data) if encrypted else (data, None)
        uploaded, _ = await self.client.upload(lambda *_: io.BytesIO(payload), content_type="image/jpeg",
                                               filename="foto.jpg", filesize=len(payload))
        assert isinstance(uploaded, UploadResponse), uploaded
        content = {"msgtype": "m.image", "body": "foto.jpg", "info": {"mimetype": "image/jpeg", "size": len(data)}}
        if caption:  # a caption as current clients send it: the body, with the file name apart (MSC2530)
            content.update(body=caption, filename="foto.jpg")
        if keys:
            content["file"] = {**keys, "url": uploaded.content_uri}
        else:
            content["url"] = uploaded.content_uri
        return await self._send(room_id, content)

    async def send_file(self, room_id: str, data: bytes, name: str, mimetype: str, msgtype: str = "m.file",
                        encrypted: bool = True) -> tuple[str, dict]:
        """A file or video as clients send one; returns the event id and the content sent."""
        payload, keys = encrypt_attachment(data) if encrypted else (data, None)
        uploaded, _ = await self.client.upload(lambda *_: io.BytesIO(payload), content_type=mimetype,
                                               filename=name, filesize=len(payload))
        assert isinstance(uploaded, UploadResponse), uploaded
        content = {"msgtype": msgtype, "body": name, "info": {"mimetype": mimetype, "size": len(data)}}
        if keys:
            content["file"] = {**keys, "url": uploaded.content_uri}
        else:
            content["url"] = uploaded.content_uri
        return await self._send(room_id, content), content

    async def send_location(self, room_id: str, latitude: float, longitude: float) -> str:
        return await self._send(room_id, {"msgtype": "m.location", "body": "Locatie",
                                          "geo_uri": f"geo:{latitude},{longitude}"})

    # ---- reading the bot ------------------------------------------------------------------------

    def all_notices(self, room_id: str | None) -> list[Notice]:
        return self.notices.get(room_id or "", [])

    async def expect(self, room_id: str | None, contains: str, timeout: float = WAIT) -> Notice:
        """The next unread notice from the bot in the room that contains ``contains``; marks it read."""
        def found() -> Notice | None:
            room = room_id or self.dm
            unread = self.all_notices(room)[self.read_upto.get(room, 0):]
            for offset, notice in enumerate(unread):
                if contains.lower() in notice.body.lower():
                    self.read_upto[room] = self.read_upto.get(room, 0) + offset + 1
                    return notice
            return None

        result: list[Notice] = []

        def condition() -> bool:
            notice = found()
            if notice is not None:
                result.append(notice)
            return bool(result)

        await self.sync_until(condition, f"a notice with {contains!r}", timeout)
        assert not self.undecrypted, f"{self.name} could not decrypt: {self.undecrypted}"
        return result[0]

    def unread(self, room_id: str | None) -> list[Notice]:
        room = room_id or self.dm
        return self.all_notices(room)[self.read_upto.get(room, 0):]


class MatrixWorld:
    """The bot on Matrix (and optionally Telegram) plus the people, on one Synapse."""

    def __init__(self, synapse: SynapseServer, tmp_path: Path, db: Database, clock: ManualClock,
                 telegram_server=None):
        self.synapse = synapse
        self.tmp_path = tmp_path
        self.db = db
        self.clock = clock
        self.telegram_server = telegram_server
        self.people: list[MatrixPerson] = []
        self.bot: Harness | None = None
        self.bot_user_id = ""

    async def register_bot(self) -> str:
        """The bot's account on the homeserver (before the bot first starts)."""
        localpart = f"weerbaar_{secrets.token_hex(4)}"
        self._bot_password = secrets.token_urlsafe(16)
        self.bot_user_id, _ = await self.synapse.register(localpart, self._bot_password)
        return self.bot_user_id

    async def start_bot(self, **matrix_options) -> Harness:
        if not self.bot_user_id:
            await self.register_bot()
        password = self._bot_password
        matrix = {"homeserver": self.synapse.base_url, "user_id": self.bot_user_id,
                  "state_dir": str(self.tmp_path / "bot-matrix-state"), **matrix_options}
        self.bot = Harness(self.telegram_server, self.db, self.clock, matrix=matrix,
                           matrix_env={"WEERBAAR_MATRIX_PASSWORD": password,
                                       "WEERBAAR_MATRIX_PICKLE_KEY": "test-pickle-key"})
        await self.bot.start()
        return self.bot

    @property
    def adapter(self):
        return self.bot.app.matrix

    async def person(self, name: str) -> MatrixPerson:
        client = await make_matrix_user(self.synapse, self.tmp_path, name)
        await client.set_displayname(name.capitalize())
        person = MatrixPerson(client, name, self.bot_user_id)
        self.people.append(person)
        return person

    async def settle(self, event_id: str | None = None) -> None:
        """Wait until the bot has seen ``event_id``, then deliver everything due."""
        if event_id is not None:
            await self.adapter.wait_seen(event_id, timeout=WAIT)
        await self.bot.app.dispatcher.deliver_due()

    async def tell(self, person: MatrixPerson, room_id: str | None, text: str) -> None:
        """Say something and let the bot handle it and deliver its answers."""
        await self.settle(await person.say(room_id or person.dm, text))

    async def open_dm(self, person: MatrixPerson) -> str:
        """The person opens an encrypted direct chat with the bot, as Element's "Start chat" does."""
        created = await person.client.room_create(
            is_direct=True, invite=[self.bot_user_id], preset=RoomPreset.trusted_private_chat,
            initial_state=[EnableEncryptionBuilder().as_dict()])
        assert isinstance(created, RoomCreateResponse), created
        room_id = created.room_id
        await person.sync_until(lambda: self._joined(person, room_id, self.bot_user_id), "the bot joining the DM")
        person.dm = room_id
        return room_id

    async def open_room(self, admin: MatrixPerson, members: list[MatrixPerson], name: str = "Ondernemers SP") -> str:
        """An encrypted room of the park: the admin creates it, members join, the bot is invited."""
        created = await admin.client.room_create(
            name=name, preset=RoomPreset.private_chat, invite=[member.user_id for member in members],
            initial_state=[EnableEncryptionBuilder().as_dict()])
        assert isinstance(created, RoomCreateResponse), created
        room_id = created.room_id
        await admin.sync_until(lambda: room_id in admin.client.rooms, "the new room")
        for member in members:
            await member.sync_until(lambda m=member: room_id in m.client.invited_rooms, "the room invite")
            joined = await member.client.join(room_id)
            assert isinstance(joined, JoinResponse), joined
            await member.sync_until(lambda m=member: room_id in m.client.rooms, "the own join")
        await admin.sync_until(lambda: all(self._joined(admin, room_id, m.user_id) for m in members),
                               "members joining")
        return room_id

    async def invite_bot(self, admin: MatrixPerson, room_id: str) -> None:
        response = await admin.client.room_invite(room_id, self.bot_user_id)
        assert type(response).__name__ == "RoomInviteResponse", response

    async def bot_membership(self, person: MatrixPerson, room_id: str) -> str | None:
        response = await person.client.room_get_state_event(room_id, "m.room.member", self.bot_user_id)
        return getattr(response, "content", {}).get("membership")

    async def bot_joins(self, person: MatrixPerson, room_id: str) -> None:
        await person.sync_until(lambda: self._joined(person, room_id, self.bot_user_id), "the bot joining")

    @staticmethod
    def _joined(person: MatrixPerson, room_id: str, user_id: str) -> bool:
        room = person.client.rooms.get(room_id)
        return room is not None and user_id in room.users and user_id not in room.invited_users

    async def verify(self, person: MatrixPerson, role: str, park: str = "spaanse-polder") -> None:
        if person.dm is None:
            await self.open_dm(person)
        await self.tell(person, person.dm, f"!start {self.bot.invite(role, park)}")
        await person.expect(person.dm, "geverifieerd")

    async def close(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
        for person in self.people:
            await person.client.close()
