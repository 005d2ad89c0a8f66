"""Matrix fail-over: two real ``weerbaar run`` processes on one PostgreSQL and the real Synapse.

Only the leader syncs the bot's Matrix account (one device: two syncing clients would break
its olm sessions); the other waits as standby. The leader is killed with SIGKILL; the standby
takes over within seconds from the shared state directory, and a message sent right after
the kill is answered exactly once, encrypted so the person can read it.
"""

import asyncio
import secrets

from nio import EnableEncryptionBuilder, RoomCreateResponse, RoomPreset
from sqlmodel import Session, select

from storage.models import InboxUpdate, OutboxMessage
from tests.bot_process import BotProcess
from tests.databases import POSTGRES_URL
from tests.matrix_fixtures import make_matrix_user
from tests.matrix_people import MatrixPerson, MatrixWorld
from tests.test_crash import processes  # noqa: F401 - the fixture
from tests.test_faults import postgres_schema  # noqa: F401 - the fixture
from tests.test_instances import role_of, wait_for_role
from tests.test_telegram_webhook import free_port

TAKEOVER = 15.0  # seconds a standby may need to lead after a SIGKILL on this machine (lease check every 2 s)


async def test_the_standby_takes_over_matrix_when_the_leader_is_killed(synapse, tmp_path, postgres_schema,
                                                                        processes):
    password = secrets.token_urlsafe(16)
    bot_user_id, _ = await synapse.register(f"weerbaar_{secrets.token_hex(4)}", password)
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{postgres_schema}"
    state_dir = tmp_path / "shared-matrix-state"  # both instances reach it (in production: a shared volume)
    matrix = {"homeserver": synapse.base_url, "user_id": bot_user_id, "state_dir": str(state_dir)}
    environ = {"WEERBAAR_MATRIX_PASSWORD": password, "WEERBAAR_MATRIX_PICKLE_KEY": "test-pickle-key"}
    ports = [free_port(), free_port()]
    instances = []
    for index, port in enumerate(ports):
        (tmp_path / f"i{index}").mkdir()
        instance = BotProcess(tmp_path / f"i{index}", None, database_url=url, matrix=matrix, environ=environ,
                              monitoring_port=port)
        instances.append(instance)
        processes.append(instance)
    first, second = instances
    db = await asyncio.to_thread(first.prepare)
    erik = MatrixPerson(await make_matrix_user(synapse, tmp_path, "erik"), "erik", bot_user_id)

    async def pause() -> None:
        await erik.sync(timeout_ms=500)

    await first.start(wait=False)
    assert await wait_for_role(ports[0], {"leader"}, pause) == "leader"
    await second.start(wait=False)
    assert await wait_for_role(ports[1], {"standby"}, pause) == "standby"

    created = await erik.client.room_create(is_direct=True, invite=[bot_user_id],
                                            preset=RoomPreset.trusted_private_chat,
                                            initial_state=[EnableEncryptionBuilder().as_dict()])
    assert isinstance(created, RoomCreateResponse), created
    erik.dm = created.room_id
    await erik.sync_until(lambda: MatrixWorld._joined(erik, erik.dm, bot_user_id), "the bot joining the DM")
    await erik.say(erik.dm, f"!start {first.invite(db, 'police')}")
    await erik.expect(erik.dm, "geverifieerd")  # the leader answers

    await first.kill()
    await erik.say(erik.dm, "hallo na de val")  # sent while nobody syncs
    assert await wait_for_role(ports[1], {"leader"}, pause) == "leader"
    answer = await erik.expect(erik.dm, "begrijp", timeout=TAKEOVER + 20)
    assert not erik.undecrypted  # the new leader encrypts with the same device's sessions

    await erik.say(erik.dm, "nog een keer")  # the new leader goes on answering, each message once
    await erik.expect(erik.dm, "begrijp")
    await erik.sync_until(lambda: True, "one more sync")
    answers = [notice for notice in erik.all_notices(erik.dm) if "begrijp" in notice.body.lower()]
    assert len(answers) == 2 and answers[0].event_id == answer.event_id
    assert await role_of(ports[0]) is None and first.process.returncode is not None
    assert await second.stop() == 0, second.log()[-3000:]
    assert "this instance is the leader now" in second.log()
    with Session(db.engine) as session:
        inbox = session.exec(select(InboxUpdate).where(InboxUpdate.key.startswith("matrix:"))).all()
        sent = session.exec(select(OutboxMessage).where(OutboxMessage.platform == "matrix")).all()
    assert inbox and all(row.applied_at for row in inbox)
    assert {row.status for row in sent} == {"sent"}
    db.engine.dispose()
    await erik.client.close()
