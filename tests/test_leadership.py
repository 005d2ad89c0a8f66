"""One leader among the instances (Matrix sync, sweeps), elected through the database, on SQLite and PostgreSQL."""

from datetime import timedelta

from bot.instances import LEADER_TTL, Instance, Leadership
from bot.single_instance import instance_name
from handlers.clock import ManualClock
from tests.harness import START


def candidate(db, clock, duties: list[str], lost: list[str], name: str) -> Leadership:
    async def elected() -> None:
        duties.append(name)
    return Leadership(db, clock, f"{instance_name()}-{name}", on_elected=elected, on_lost=lost.append)


async def two_candidates(db) -> tuple[ManualClock, list[str], list[str], Leadership, Leadership]:
    """Candidates "a" and "b" on one clock, started in that order: what they did and lost is recorded."""
    clock = ManualClock(START)
    duties: list[str] = []
    lost: list[str] = []
    first, second = candidate(db, clock, duties, lost, "a"), candidate(db, clock, duties, lost, "b")
    await first.start()
    await second.start()
    return clock, duties, lost, first, second


async def test_one_leads_the_other_waits_and_takes_over_when_it_hands_back(database):
    clock, duties, lost, first, second = await two_candidates(database)
    try:
        assert (first.state, second.state) == ("leader", "standby")
        assert duties == ["a"] and second.leader == first.holder
        await first.stop()  # a clean stop hands the lease back
        assert await second._round() is True
        await second._duties  # its duties start in their own task, so the lease is renewed meanwhile
        assert second.state == "leader" and duties == ["a", "b"]
    finally:
        await first.stop()
        await second.stop()
    assert lost == []


async def test_a_leader_whose_lease_ran_out_and_was_taken_stops(database):
    clock, duties, lost, first, second = await two_candidates(database)
    try:
        clock.advance(LEADER_TTL + timedelta(seconds=1))  # the leader could not renew (a partition, a pause)
        assert await second._round() is True  # the standby takes the expired lease
        await first._round()  # the old leader finds it taken
        assert first.state == "standby" and len(lost) == 1 and "lost the leadership" in lost[0]
    finally:
        await first.halt()
        await second.stop()


async def test_instances_count_each_other_by_their_heartbeats(database):
    clock = ManualClock(START)
    counts: list[int] = []
    first, second = Instance(database, clock), Instance(database, clock, on_count=counts.append)
    await first.start()
    await second.start()
    assert second.running_instances == 2 and counts[-1] == 2
    await first.stop()
    await second._count()
    assert second.running_instances == 1 and counts[-1] == 1
    await second.stop()
