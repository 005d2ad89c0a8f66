"""A person on Element's own crypto (matrix-js-sdk + Rust crypto in Node), driven from a test.

``tests/element/person.mjs`` runs in a Node subprocess and speaks JSON lines; this class is
its Python face: ``await person.say(room, "melden")``, ``await person.expect(room, "SP-0001")``.
Node and the pinned npm packages come from the project's set-up (``make test`` runs
``npm ci`` in ``tests/element``). Without them the tests are skipped locally and fail on CI.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
from pathlib import Path

import pytest

ELEMENT_DIR = Path(__file__).parent / "element"
WAIT_MS = 30_000


def require_element_sdk() -> str:
    """The node binary; skips (fails on CI) when node or the npm packages are missing."""
    node = shutil.which("node")
    problem = None
    if node is None:
        problem = "node is not installed"
    elif not (ELEMENT_DIR / "node_modules" / "matrix-js-sdk" / "package.json").exists():
        problem = "the npm packages of tests/element are not installed (make test runs npm ci)"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Element's crypto cannot run: {problem}", pytrace=False)
        pytest.skip(problem)
    return node


class ElementPerson:
    """One Element login in a Node process; every call waits for the process's answer."""

    def __init__(self, process: asyncio.subprocess.Process, log_path: Path):
        self.process = process
        self.log_path = log_path
        self._ids = itertools.count(1)
        self.user_id = ""
        self.dm: str | None = None
        self._seen: list[str] = []

    @classmethod
    async def start(cls, node: str, log_path: Path) -> ElementPerson:
        log = open(log_path, "wb")  # noqa: SIM115 - the process owns it until it ends
        process = await asyncio.create_subprocess_exec(
            node, str(ELEMENT_DIR / "person.mjs"), cwd=ELEMENT_DIR, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=log, limit=2**22)
        log.close()
        return cls(process, log_path)

    async def call(self, cmd: str, timeout: float = 60.0, **arguments) -> dict:
        request_id = next(self._ids)
        self.process.stdin.write((json.dumps({"id": request_id, "cmd": cmd, **arguments}) + "\n").encode())
        await self.process.stdin.drain()
        async with asyncio.timeout(timeout):
            while True:
                line = await self.process.stdout.readline()
                if not line:
                    raise AssertionError(f"the Element person died; log:\n{self.log_tail()}")
                if not line.startswith(b"@@"):
                    continue
                reply = json.loads(line[2:])
                if reply.get("id") == request_id:
                    break
        if not reply.pop("ok"):
            raise AssertionError(f"Element person: {cmd} failed: {reply.get('error')}\n{self.log_tail()}")
        return reply

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])

    async def setup(self, homeserver: str, user_id: str, password: str, bot: str) -> dict:
        self.user_id = user_id
        return await self.call("setup", homeserver=homeserver, userId=user_id, password=password, bot=bot)

    async def open_dm(self) -> str:
        self.dm = (await self.call("openDm", timeoutMs=WAIT_MS))["roomId"]
        return self.dm

    async def join(self, room_id: str) -> None:
        await self.call("join", roomId=room_id, timeoutMs=WAIT_MS)

    async def say(self, text: str, room_id: str | None = None, reply_to: str | None = None) -> str:
        return (await self.call("say", roomId=room_id or self.dm, text=text, replyTo=reply_to))["eventId"]

    async def expect(self, contains: str, room_id: str | None = None) -> dict:
        """The next bot message (not read before) containing the text, with its shield."""
        message = await self.call("expect", roomId=room_id or self.dm, contains=contains, after=self._seen,
                                  timeoutMs=WAIT_MS, timeout=WAIT_MS / 1000 + 10)
        self._seen.append(message["eventId"])
        return message

    async def bot_messages(self, room_id: str | None = None) -> list[dict]:
        return (await self.call("allBotMessages", roomId=room_id or self.dm))["messages"]

    async def bot_devices(self) -> list[dict]:
        """The bot's devices as this client sees them, with whether their owner signed them."""
        return (await self.call("botDevices"))["devices"]

    async def close(self) -> None:
        if self.process.returncode is None:
            try:
                await self.call("quit", timeout=10)
            except (AssertionError, TimeoutError, BrokenPipeError, ConnectionResetError):
                pass
            if self.process.returncode is None:
                try:
                    await asyncio.wait_for(self.process.wait(), 10)
                except TimeoutError:
                    self.process.kill()
                    await self.process.wait()
