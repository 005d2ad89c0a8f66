"""Two real ``weerbaar run`` processes in webhook mode on one PostgreSQL, behind a small load balancer.

Telegram (the fake) posts every update to the balancer, which hands the requests to the two
instances in turn (and to the other one when an instance does not answer). People file
reports at the same time; one instance is killed with SIGKILL in the middle. Counted
afterwards: every input applied exactly once, the order per chat kept (each report holds
what was typed at each step, although the three answers were sent at once), every intended
message delivered (duplicates only from sends in flight at the kill), no 429 from the fake's
flood control, and the survivor leads (it runs the sweeps) once the leader is dead.
"""

import asyncio
import itertools
from collections import Counter

import aiohttp
import pytest
from aiohttp import web
from sqlmodel import Session, select

from storage.models import InboxUpdate, OutboxMessage
from tests.bot_process import BotProcess
from tests.databases import POSTGRES_URL
from tests.test_crash import (  # noqa: F401 - fixtures
    _data, _drain, _plain, _reports, assert_each_report_holds_what_was_typed, live_server, message_in, processes,
)
from tests.test_faults import postgres_schema  # noqa: F401 - the fixture
from tests.test_telegram_webhook import free_port

REPORTERS = 5
SECRET = "two-instances_secret"
KILL_AFTER = 12  # the victim dies right after answering its 12th update: stored, not yet applied


class LoadBalancer:
    """Round robin over the instances; an instance that does not answer is skipped (as a health check would)."""

    def __init__(self, backends: list[str]):
        self.backends = backends
        self._turns = itertools.cycle(range(len(backends)))
        self.forwarded = Counter()
        self.unreachable = 0
        #: Told each answered request's backend (after the answer went back to Telegram).
        self.on_answered = lambda backend: None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = free_port()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/telegram", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))

    async def stop(self) -> None:
        await self._session.close()
        await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {name: value for name, value in request.headers.items()
                   if name.lower() in ("content-type", "x-telegram-bot-api-secret-token")}
        for _ in range(len(self.backends)):
            backend = self.backends[next(self._turns)]
            try:
                async with self._session.post(backend, data=body, headers=headers) as response:
                    self.forwarded[backend] += 1
                    answer = web.Response(status=response.status, body=await response.read())
            except (aiohttp.ClientError, OSError):
                self.unreachable += 1  # killed: the next instance gets it
                continue
            await answer.prepare(request)
            await answer.write_eof()
            self.on_answered(backend)
            return answer
        return web.Response(status=502)


async def file_report_quickly(server, user, number: int) -> None:
    """The guided report; where, when and what are sent at once, without waiting for the questions."""
    user.send(user.private, "/melden")
    question = await message_in(server, user, "Kies een soort")
    user.press(question, _data(question, "Drugs"))
    await message_in(server, user, "Waar was het")
    user.send(user.private, f"Loods {number}, Spaanse Polderweg")
    user.send(user.private, f"gisteren om {number} uur")
    user.send(user.private, f"Busjes bij loods {number}")
    for question_part, label in (("Heb je foto", "Klaar"), ("Mogen instanties", "Anoniem"),
                                 ("Is het dringend", "Nee"), ("Controleer je melding", "Versturen")):
        message = await message_in(server, user, question_part)
        user.press(message, _data(message, label))
    await message_in(server, user, "is verstuurd")


async def role_of(port: int) -> str | None:
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                return (await response.json()).get("role")
    except aiohttp.ClientError:
        return None


async def wait_for_role(port: int, wanted: set[str], pause) -> str:
    """The instance's role once it is one of ``wanted``: its /healthz, asked again after each ``pause()``."""
    async with asyncio.timeout(30):
        while (role := await role_of(port)) not in wanted:
            await pause()
    return role


async def test_two_instances_behind_a_load_balancer_survive_a_sigkill(live_server, tmp_path, postgres_schema,
                                                                      processes):
    server = live_server
    server.rate_limits = True  # the fake's flood control on real time: the two instances share the limits
    server.webhooks.retry_start = 0.25
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{postgres_schema}"
    ports = [free_port(), free_port()]
    monitoring = [free_port(), free_port()]
    balancer = LoadBalancer([f"http://127.0.0.1:{port}/telegram" for port in ports])
    await balancer.start()
    instances = []
    for index, (port, metrics_port) in enumerate(zip(ports, monitoring)):
        (tmp_path / f"i{index}").mkdir()
        instance = BotProcess(tmp_path / f"i{index}", server, database_url=url, telegram={
            "mode": "webhook", "webhook_url": f"http://127.0.0.1:{balancer.port}/telegram",
            "listen_port": port}, environ={"WEERBAAR_TELEGRAM_WEBHOOK_SECRET": SECRET}, monitoring_port=metrics_port)
        instances.append(instance)
        processes.append(instance)
    db = await asyncio.to_thread(instances[0].prepare)
    admin = server.add_user("Anna", language_code="nl")
    police = server.add_user("Piet", language_code="nl")
    reporters = [server.add_user(f"Reporter{n}", language_code="nl") for n in range(REPORTERS)]
    group = server.add_group("Ondernemers Spaanse Polder", members=[admin, *reporters])
    for instance in instances:
        await instance.start()
    def pause():  # until the next bot message, at most half a second
        return server.world.message_signal.wait(0.5)
    roles = [await wait_for_role(port, {"leader", "standby"}, pause) for port in monitoring]
    assert sorted(roles) == ["leader", "standby"]
    leader_index = roles.index("leader")
    victim, survivor = instances[leader_index], instances[1 - leader_index]
    try:
        admin.start(victim.invite(db, "admin"))
        police.start(victim.invite(db, "police"))
        await message_in(server, police, "geverifieerd")
        await message_in(server, admin, "geverifieerd")
        admin.send(group, "/koppel")
        await message_in(server, group, "actief")
        for reporter in reporters:
            reporter.send(group, "/help")
        # Telegram keeps the order within a chat, not across one person's chats (the group and the
        # private chat are separate delivery queues): they have spoken in the group before /melden.
        async with asyncio.timeout(60):
            while sum("Ik neem meldingen" in message.text for message in server.messages(group)) < REPORTERS:
                await server.world.message_signal.wait(1.0)

        victim_url = balancer.backends[leader_index]

        def kill_the_leader_mid_traffic(backend: str) -> None:
            if backend == victim_url and balancer.forwarded[backend] == KILL_AFTER + before_traffic:
                victim.kill_now()
        before_traffic = balancer.forwarded[victim_url]
        balancer.on_answered = kill_the_leader_mid_traffic
        await asyncio.gather(*(file_report_quickly(server, user, n + 1) for n, user in enumerate(reporters)))
        numbers = sorted(report.number for report in _reports(db))
        for number in numbers:
            delivery = await message_in(server, police, f"SP-{number:04d}")
            police.press(delivery, _data(delivery, "Terugkoppelen"))
            menu = await message_in(server, police, f"Terugkoppeling op SP-{number:04d}: kies")
            police.press(menu, _data(menu, "Ontvangen, dank"))
        for user in reporters:
            await message_in(server, user, "Terugkoppeling op je melding")
        server.on_request.clear()
        await _drain(server, db)
        assert victim.kills == 1 and victim.process.returncode is not None
        assert await wait_for_role(monitoring[1 - leader_index], {"leader"}, pause)  # it runs the sweeps now
    finally:
        server.on_request.clear()
        assert await survivor.stop() == 0, survivor.log()[-3000:]
        await balancer.stop()

    # applied in the order typed, though sent at once and spread over two instances
    assert_each_report_holds_what_was_typed(db, REPORTERS)
    with Session(db.engine) as session:
        inbox = session.exec(select(InboxUpdate)).all()
        outbox = session.exec(select(OutboxMessage)).all()
    assert len(inbox) == server.updates_enqueued and all(row.applied_at and row.payload is None for row in inbox)
    handled_by = Counter(row.holder for row in inbox)
    assert len(handled_by) == 2, handled_by  # both instances took updates
    assert {row.status for row in outbox} == {"sent"}
    delivered = Counter((m.chat_id, m.text or m.caption) for m in server.sent)
    intended = Counter((int(row.chat_id), _plain(row)) for row in outbox)
    assert not [key for key in intended if key not in delivered]
    duplicates = sum(count - intended[key] for key, count in delivered.items() if count > intended.get(key, 0))
    too_many = [error for error in server.errors if error.error_code == 429]
    adopted = sum(int(line.split("took over ")[1].split()[0]) for line in survivor.log().splitlines()
                  if "took over" in line)
    print(f"\n{adopted} updates stored by the killed instance were applied by the survivor", end="")
    print(f"\n{len(inbox)} inputs applied once each over two instances {sorted(handled_by.values())}, "
          f"{len(outbox)} messages, {duplicates} delivered twice, {server.webhooks.current.failed_posts} webhook posts "
          f"failed and were sent again, {balancer.unreachable} requests skipped the killed instance, "
          f"{len(too_many)} answers 429")
    assert duplicates <= 4, victim.log()[-2000:]  # only the sends in flight at the kill
    assert "going on without it" not in survivor.log()  # the order held by the inbox, not by a timeout
    assert too_many == []
    db.engine.dispose()
