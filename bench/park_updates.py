"""Benchmark: a park update sent privately to many members, against one ordinary message.

Run with ``.venv/bin/python bench/park_updates.py [N]`` (default 2,000 members). The whole
fan-out is one transaction writing N outbox rows (the dispatcher then paces them at the
platform's limits). Targets on the 2-core reference machine, SQLite on local disk: the
"send" press for 2,000 members (plus the group) under 10 s, i.e. under 5 ms per member
(measured 2026-11-30, with other work on the machine: 1.95 s, 0.98 ms per member); each
composing step, which counts the audience, under 200 ms at the median (measured: 49 ms).
"""

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import func, select  # noqa: E402

from bench.run import START, services_for  # noqa: E402
from handlers import router  # noqa: E402
from handlers.messages import ButtonPress, Chat, Incoming, Sender  # noqa: E402
from storage.models import OutboxMessage, ParkLevelDraft, ParkMember, Person, Role  # noqa: E402

MEMBERS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000


def add_people(services, members: int) -> None:
    with services.db.transaction() as session:
        official = Person(platform="telegram", external_id="900", display_name="Piet", private_chat_id="900",
                          created_at=START)
        session.add(official)
        session.flush()
        session.add(Role(person_id=official.id, park_id=1, role="police", verified_at=START))
        for n in range(members):
            person = Person(platform="telegram", external_id=str(10_000 + n), private_chat_id=str(10_000 + n),
                            created_at=START)
            session.add(person)
            session.flush()
            session.add(ParkMember(park_id=1, person_id=person.id, since=START, checked_at=START))


async def send_update(services) -> tuple[float, list[float]]:
    sender = Sender("telegram", "900", "Piet", language_code="nl")
    chat = Chat("telegram", "900", is_private=True)
    timings: list[float] = []

    async def handle(**fields) -> None:
        began = time.perf_counter()
        await router.handle(services, Incoming(sender=sender, chat=chat, **fields))
        timings.append(time.perf_counter() - began)

    def press(value: str) -> ButtonPress:
        with services.db.transaction() as session:
            draft = session.exec(select(ParkLevelDraft)).one()
            return ButtonPress(data=f"k:{draft.id}:{draft.step}:{value}")

    await handle(text="/bericht Controle gehouden", command="bericht", args="Controle gehouden")
    await handle(press=press("none"))
    await handle(press=press("members"))
    await handle(press=press("next"))
    await handle(press=press("role"))
    sending = press("send")
    began = time.perf_counter()
    await router.handle(services, Incoming(sender=sender, chat=chat, press=sending))
    return time.perf_counter() - began, timings


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        services = services_for(Path(directory))
        add_people(services, MEMBERS)
        elapsed, ordinary = asyncio.run(send_update(services))
        with services.db.transaction() as session:
            rows = session.exec(select(func.count(OutboxMessage.id)).where(OutboxMessage.purpose == "update")).one()
        per_member = elapsed / MEMBERS
        median = statistics.median(ordinary)
        print(f"update fan-out: {rows} outbox rows (the group and {MEMBERS} members) in {elapsed:.2f} s, "
              f"{per_member * 1000:.2f} ms per member; composing steps: median {median * 1000:.1f} ms")


if __name__ == "__main__":
    main()
