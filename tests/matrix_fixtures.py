"""pytest fixtures and helpers for tests against a real Synapse with matrix-nio clients.

Load as a plugin: ``pytest_plugins = ["tests.matrix_fixtures"]`` (root conftest.py, or
the test module itself; pytest registers a plugin module once, so both is harmless).

Why the ``synapse`` fixture is synchronous: pytest-asyncio 1.x gives every async
fixture an event loop of its own scope, so a session-scoped *async* fixture would need
``loop_scope="session"`` and then every test touching it would have to run in the
session loop too (``@pytest.mark.asyncio(loop_scope="session")``), or fail with
"attached to a different loop". Synapse is a separate process, so nothing about it
belongs to a loop: the fixture starts the subprocess and blocks until
``/_matrix/client/versions`` answers, once per session, and tests keep the default
function-scoped loop. Everything loop-bound (aiohttp sessions, nio clients) is created
inside the test, or in function-scoped async fixtures, on the test's own loop.

If Synapse cannot start the tests that use it are skipped with the reason -- unless
``CI=true``, where a homeserver that does not start is a failure, reported with the
tail of its log.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClient, AsyncClientConfig, LoginResponse, SyncResponse

from tests.matrix_homeserver import SynapseServer, SynapseStartError


def _start_or_give_up(server: SynapseServer) -> SynapseServer:
    """Start the server; if it will not start, skip (fail on CI) with its log tail."""
    try:
        return server.start()
    except SynapseStartError as caught:
        error = caught
    server.stop()
    if os.environ.get("CI") == "true":
        pytest.fail(f"Synapse homeserver did not start: {error}", pytrace=False)
    last_lines = [line.strip() for line in error.log_tail.splitlines() if line.strip()][-3:]
    detail = f" ({' | '.join(last_lines)})" if last_lines else ""
    pytest.skip(f"Synapse homeserver did not start: {error.args[0]}{detail}")


@pytest.fixture(scope="session")
def synapse() -> Iterator[SynapseServer]:
    """One Synapse for the whole test session, with rate limits out of the way."""
    server = _start_or_give_up(SynapseServer())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def synapse_tight_rate_limit() -> Iterator[SynapseServer]:
    """A second Synapse whose rc_message allows a burst of 2, to provoke M_LIMIT_EXCEEDED."""
    server = _start_or_give_up(SynapseServer(tight_message_rate_limit=True))
    try:
        yield server
    finally:
        server.stop()


def matrix_client_config(**overrides: Any) -> AsyncClientConfig:
    """The client configuration the bot uses: E2EE on, sync token kept, no silent 429 loop.

    ``max_limit_exceeded=0`` makes nio return the ``M_LIMIT_EXCEEDED`` error (with
    ``retry_after_ms``) instead of sleeping and retrying forever inside ``_send``.
    """
    settings: dict[str, Any] = {
        "encryption_enabled": True,
        "store_sync_tokens": True,
        "max_limit_exceeded": 0,
        "max_timeouts": 2,
        "request_timeout": 30,
    }
    settings.update(overrides)
    return AsyncClientConfig(**settings)


async def make_matrix_user(
    synapse: SynapseServer,
    tmp_path: Path,
    name: str,
    *,
    config: AsyncClientConfig | None = None,
) -> AsyncClient:
    """Register a fresh user and return an E2EE nio client logged in as it, keys uploaded.

    The localpart is ``name`` plus a random suffix, so tests sharing one server never
    collide. The crypto store (``<user_id>_<device_id>.db``) lives in
    ``tmp_path / f"{name}-store"``.
    """
    localpart = f"{name}_{secrets.token_hex(4)}"
    user_id, password = await synapse.register(localpart, secrets.token_urlsafe(16))
    store_path = tmp_path / f"{name}-store"
    store_path.mkdir(parents=True, exist_ok=True)
    client = AsyncClient(
        synapse.base_url,
        user_id,
        store_path=str(store_path),
        config=config or matrix_client_config(),
    )
    response = await client.login(password, device_name=f"weerbaar-test-{name}")
    if not isinstance(response, LoginResponse):
        await client.close()
        raise AssertionError(f"login of {user_id} failed: {response}")
    # login() has loaded the olm account from the store (restore_login -> load_store).
    if client.should_upload_keys:
        await client.keys_upload()
    return client


async def restore_matrix_client(
    synapse: SynapseServer,
    store_path: Path | str,
    user_id: str,
    device_id: str,
    access_token: str,
    *,
    config: AsyncClientConfig | None = None,
) -> AsyncClient:
    """Build a client for an existing device as the bot does after a restart (no login)."""
    client = AsyncClient(
        synapse.base_url,
        user_id,
        device_id=device_id,
        store_path=str(store_path),
        config=config or matrix_client_config(),
    )
    client.restore_login(user_id, device_id, access_token)  # also calls load_store()
    client.load_store()  # no-op when restore_login already loaded it; explicit on purpose
    return client


async def sync_client(client: AsyncClient, timeout_ms: int = 0, **sync_kwargs: Any) -> None:
    """One sync plus the E2EE housekeeping ``sync_forever`` does between syncs.

    Raises if the sync itself failed. Sends pending to-device messages, uploads
    one-time keys, queries changed device lists and claims one-time keys as needed.
    """

    response = await client.sync(timeout=timeout_ms, **sync_kwargs)
    if not isinstance(response, SyncResponse):
        raise AssertionError(f"sync of {client.user_id} failed: {response}")
    await client.send_to_device_messages()
    if client.should_upload_keys:
        await client.keys_upload()
    if client.should_query_keys:
        await client.keys_query()
    if client.should_claim_keys:
        await client.keys_claim(client.get_users_for_key_claiming())


async def sync_until(
    client: AsyncClient,
    condition: Callable[[], bool],
    *,
    timeout: float = 15.0,
    poll_ms: int = 1000,
    what: str = "condition",
) -> None:
    """Long-poll sync until ``condition()`` holds; fail after ``timeout`` seconds.

    Each sync waits on the server (up to ``poll_ms``) for new events, so this waits
    on the homeserver, not on a clock.
    """
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await sync_client(client, timeout_ms=poll_ms)
    except TimeoutError:
        raise AssertionError(
            f"{client.user_id}: {what} not reached within {timeout:.0f} s of syncing"
        ) from None


@pytest.fixture
async def matrix_user(
    synapse: SynapseServer, tmp_path: Path
) -> AsyncIterator[Callable[..., Any]]:
    """Factory fixture: ``client = await matrix_user("alice")``; clients closed afterwards.

    Clients are closed, never logged out (logging out would delete the device and
    its keys, which the bot must never do).
    """
    clients: list[AsyncClient] = []

    async def factory(name: str, **kwargs: Any) -> AsyncClient:
        client = await make_matrix_user(synapse, tmp_path, name, **kwargs)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()
