"""Ordered lanes: the order of the inbox row ids per chat, whatever the order of arrival or of take-over."""

import asyncio

from bot.ordered_lanes import OrderedLanes


async def test_items_of_a_chat_run_in_number_order_and_a_waiting_item_keeps_its_place():
    lanes = OrderedLanes(concurrency=8)
    ran: list[int] = []
    other_instance_done = asyncio.Event()
    attempted = asyncio.Event()

    def work(number: int, blocked_until: asyncio.Event | None = None):
        async def attempt() -> bool:
            if blocked_until is not None and not blocked_until.is_set():
                attempted.set()
                return False  # an earlier update of its chat is still with another instance
            ran.append(number)
            return True
        return attempt

    lanes.submit(["chat:a"], 5, work(5, blocked_until=other_instance_done))
    lanes.submit(["chat:a"], 7, work(7))
    lanes.submit(["chat:b"], 6, work(6))  # another chat does not wait
    await asyncio.wait_for(attempted.wait(), 5)  # 5 was tried and must wait
    assert 7 not in ran
    lanes.submit(["chat:a"], 3, work(3))  # taken over from a dead instance: goes before 5 and 7
    other_instance_done.set()
    assert await lanes.drain(timeout=5)
    assert [number for number in ran if number != 6] == [3, 5, 7]
    assert lanes.busy == 0
