"""A Matrix send repeated after a crash reaches the person once: the homeserver deduplicates it.

The outbox sends each row with a transaction id derived from the row id (``w<id>``). When the
process dies after the homeserver took a send and before the outbox marked the row, the next
start sends the row again with the same transaction id from the same device and access
token, and Synapse answers with the event it already has instead of posting a second one.
"""

from datetime import timedelta

from sqlmodel import Session, select

from storage.models import OutboxMessage
from tests.matrix_people import MatrixWorld


async def test_a_send_repeated_after_a_crash_is_one_message_for_the_person(synapse, sqlite_database, clock,
                                                                          tmp_path):
    world = MatrixWorld(synapse, tmp_path, sqlite_database, clock)
    try:
        await world.start_bot()
        erik = await world.person("erik")
        await world.open_dm(erik)
        await world.tell(erik, erik.dm, "!mijnmeldingen")
        answer = await erik.expect(erik.dm, "")
        [row] = [row for row in world.bot.outbox() if row.platform_message_id == answer.event_id]

        # The state a SIGKILL between the send and its mark leaves: the row still pending, its
        # message already on the homeserver. The next process sends it again (once it knows the
        # room again: nio keeps no room state, the first syncs rebuild it).
        with Session(sqlite_database.engine) as session:
            stored = session.get(OutboxMessage, row.id)
            stored.status, stored.sent_at, stored.platform_message_id = "pending", None, None
            stored.next_attempt_at = clock.now() + timedelta(minutes=1)
            session.add(stored)
            session.commit()
        await world.bot.restart()
        said = await erik.say(erik.dm, "!help")  # its answer waits behind the row (order per chat)
        await world.adapter.wait_seen(said)
        clock.advance(timedelta(minutes=2))
        await world.bot.app.dispatcher.deliver_due()
        await erik.expect(erik.dm, "Wat ik voor je kan doen")

        with Session(sqlite_database.engine) as session:
            resent = session.exec(select(OutboxMessage).where(OutboxMessage.id == row.id)).one()
        assert resent.status == "sent" and resent.attempts == 2
        assert resent.platform_message_id == answer.event_id  # the homeserver answered with the same event
        # Anything sent before the next answer arrives before it: a duplicate would show up here.
        await world.tell(erik, erik.dm, "!help")
        await erik.expect(erik.dm, "Wat ik voor je kan doen")
        assert [notice.event_id for notice in erik.all_notices(erik.dm)
                if notice.body == answer.body] == [answer.event_id]
    finally:
        await world.close()
