"""The real Matrix stack works the way the bot's Matrix adapter will use it.

Synapse runs as a subprocess (tests/matrix_homeserver.py); the clients are real
matrix-nio 0.26 ``AsyncClient``s with vodozemac end-to-end encryption.

What the bot's Matrix adapter needs (verified here against Synapse 1.163, nio 0.26.0,
vodozemac 0.10; nio 0.26 no longer needs libolm, ``matrix-nio[e2e]`` pulls vodozemac):

Client set-up
    ``AsyncClient(homeserver, user_id, device_id=..., store_path=dir,
    config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True,
    max_limit_exceeded=0, pickle_key=<secret from config>))``. The store is the SQLite
    file ``<store_path>/<user_id>_<device_id>.db`` (Olm account, Olm/Megolm sessions,
    device trust, sync token); ``store_path`` must exist. ``pickle_key`` encrypts it
    (nio derives the vodozemac key as sha256(pickle_key)); it must never change. Per
    the nio source, 0.26 upgrades libolm pickles of pre-0.26 stores on load.

First start
    ``await client.login(password, device_name=...)`` -- this already runs
    ``restore_login`` -> ``load_store()``. Then ``keys_upload()`` when
    ``client.should_upload_keys``. Persist ``user_id``, ``device_id`` and
    ``access_token`` (secret) for the restarts.

Restart (never log out; ``logout()`` deletes the device and its keys)
    Shut down with ``await client.close()`` only. Start with a new ``AsyncClient`` on
    the same ``store_path`` and ``client.restore_login(user_id, device_id,
    access_token)``, which calls ``load_store()`` (a second call is a no-op); the Olm
    identity keys are the same and ``client.loaded_sync_token`` is the last token.
    Pitfall: nio does NOT persist room state -- ``client.rooms`` is empty and
    ``room_send`` raises ``LocalProtocolError("No such room ...")`` until a sync has
    listed the room. So the first sync after a restart must be
    ``sync(timeout=0, full_state=True)`` (or ``sync_forever(..., full_state=True)``):
    it rebuilds every joined room from the stored token without replaying the old
    timeline. Inbound Megolm keys survive the restart (Bob's old session still
    decrypts); the outbound session does not, and nio shares a new one on first send.

Sync loop and E2EE housekeeping
    ``sync_forever(timeout=30000, full_state=True)`` does it all. A hand-written loop
    (as ``tests.matrix_fixtures.sync_client``) must, after each ``sync()``:
    ``send_to_device_messages()``; ``keys_upload()`` if ``should_upload_keys``;
    ``keys_query()`` if ``should_query_keys``; ``keys_claim(get_users_for_key_claiming())``
    if ``should_claim_keys``. Decryption happens inside ``sync`` (to-device room keys
    are handled before the room timelines of the same response), so event callbacks
    (``add_event_callback(cb, (RoomMessageText, RoomMessageNotice, MegolmEvent))``)
    get ``RoomMessageNotice``/``RoomMessageText`` with ``event.decrypted`` True; a
    ``MegolmEvent`` in a callback means "could not decrypt" (missing key: log it,
    optionally ``request_room_key(event)``). Sync also returns the client's OWN
    events, decrypted -- the adapter must drop ``event.sender == client.user_id``, and
    drop ``RoomMessageNotice`` from others (bots).

Sending and device trust
    ``room_send(room_id, "m.room.message", {"msgtype": "m.notice", "body": ...},
    ignore_unverified_devices=True)``. For an encrypted room ``room_send`` itself
    fetches members (``joined_members``), ``keys_query``, claims one-time keys and
    ``share_group_session`` before encrypting (a logged WARNING "Missing session for
    device X" is nio about to claim keys -- harmless). Without
    ``ignore_unverified_devices=True`` it raises ``OlmUnverifiedDeviceError`` for any
    device that is neither verified nor ignored; the bot cannot run interactive
    verification with every user, so pass it always (nio stores those devices as
    "ignored": they still get keys, they are just not marked verified). The
    alternative is trust-on-first-use: ``client.verify_device(device)`` for each
    ``client.device_store.active_user_devices(user_id)``. A new device of a member
    (keys_query "changed") invalidates the outbound session; the next send re-shares
    (nio source, not exercised here).

Rooms
    Encrypted DM: ``room_create(is_direct=True, invite=[user_id],
    preset=RoomPreset.trusted_private_chat,
    initial_state=[EnableEncryptionBuilder().as_dict()])``. The invitee sees it in
    ``client.invited_rooms`` after a sync and must ``join(room_id)``; an encrypted room
    only becomes usable for sending once the room is in ``client.rooms``.

Rate limits
    nio's default ``max_limit_exceeded=None`` makes ``_send`` sleep ``retry_after_ms``
    and retry FOREVER inside ``room_send`` -- an outbox dispatcher would hang there.
    With ``max_limit_exceeded=0`` ``room_send`` returns ``RoomSendError`` with
    ``status_code == "M_LIMIT_EXCEEDED"`` and ``retry_after_ms`` (about 19600 here for
    ``rc_message`` at 0.05/s), which the dispatcher turns into a scheduled retry.
    Room creation spent one ``rc_message`` token here (burst 2: one send, then limited).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from nio import (
    AsyncClient,
    EnableEncryptionBuilder,
    JoinResponse,
    MatrixRoom,
    MegolmEvent,
    OlmUnverifiedDeviceError,
    RoomCreateResponse,
    RoomMessageNotice,
    RoomPreset,
    RoomSendError,
    RoomSendResponse,
)

pytest.register_assert_rewrite("tests.matrix_fixtures")  # before the import below

from tests.matrix_fixtures import (  # noqa: E402
    make_matrix_user,
    restore_matrix_client,
    sync_client,
    sync_until,
)
from tests.matrix_homeserver import SynapseServer  # noqa: E402

# Registers the fixtures (synapse, synapse_tight_rate_limit, matrix_user) once for
# the whole session; harmless if conftest.py lists the plugin too.


class Inbox:
    """Collects notices and undecryptable events a client sees, like the adapter's callback."""

    def __init__(self, client: AsyncClient) -> None:
        self.notices: list[tuple[str, RoomMessageNotice]] = []
        self.undecrypted: list[MegolmEvent] = []
        client.add_event_callback(self._on_event, (RoomMessageNotice, MegolmEvent))

    async def _on_event(self, room: MatrixRoom, event: RoomMessageNotice | MegolmEvent) -> None:
        if isinstance(event, MegolmEvent):
            self.undecrypted.append(event)
        else:
            self.notices.append((room.room_id, event))

    def bodies(self, room_id: str) -> list[str]:
        return [event.body for rid, event in self.notices if rid == room_id]


def notice(body: str) -> dict[str, str]:
    return {"msgtype": "m.notice", "body": body}


async def open_encrypted_dm(alice: AsyncClient, bob: AsyncClient) -> str:
    """Alice opens an encrypted DM with Bob, Bob joins, and both have synced the room."""
    created = await alice.room_create(
        is_direct=True,
        invite=[bob.user_id],
        preset=RoomPreset.trusted_private_chat,
        initial_state=[EnableEncryptionBuilder().as_dict()],
    )
    assert isinstance(created, RoomCreateResponse), created
    room_id = created.room_id

    await sync_until(bob, lambda: room_id in bob.invited_rooms, what="invite")
    joined = await bob.join(room_id)
    assert isinstance(joined, JoinResponse), joined
    await sync_until(bob, lambda: room_id in bob.rooms, what="own join")
    await sync_until(
        alice,
        lambda: room_id in alice.rooms and bob.user_id in alice.rooms[room_id].users
        and bob.user_id not in alice.rooms[room_id].invited_users,
        what="Bob's join",
    )
    assert alice.rooms[room_id].encrypted and bob.rooms[room_id].encrypted
    return room_id


async def send_notice(client: AsyncClient, room_id: str, body: str) -> None:
    response = await client.room_send(
        room_id, "m.room.message", notice(body), ignore_unverified_devices=True
    )
    assert isinstance(response, RoomSendResponse), response


async def expect_notice(client: AsyncClient, inbox: Inbox, room_id: str, body: str) -> None:
    await sync_until(client, lambda: body in inbox.bodies(room_id), what=f"notice {body!r}")
    assert not inbox.undecrypted, f"undecryptable events: {inbox.undecrypted}"


def test_synapse_started(synapse: SynapseServer) -> None:
    print(f"\nSynapse start-up took {synapse.startup_seconds:.2f} s at {synapse.base_url}")
    assert synapse.running


async def test_encrypted_dm_delivers_decrypted_notice(matrix_user) -> None:
    alice = await matrix_user("alice")
    bob = await matrix_user("bob")
    bob_inbox = Inbox(bob)
    room_id = await open_encrypted_dm(alice, bob)

    # Unverified devices block sending unless trusted or explicitly ignored.
    with pytest.raises(OlmUnverifiedDeviceError):
        await alice.room_send(room_id, "m.room.message", notice("blocked"))

    await send_notice(alice, room_id, "Melding SP-0042 is ontvangen.")
    await expect_notice(bob, bob_inbox, room_id, "Melding SP-0042 is ontvangen.")

    [(_, received)] = bob_inbox.notices
    assert received.sender == alice.user_id
    assert received.decrypted and received.source["content"]["msgtype"] == "m.notice"

    # And back: Bob's reply reaches Alice decrypted.
    alice_inbox = Inbox(alice)
    await send_notice(bob, room_id, "Dank je.")
    await expect_notice(alice, alice_inbox, room_id, "Dank je.")

    # Sync hands a client its own (decrypted) events too: the adapter must skip them.
    own = [event for _, event in alice_inbox.notices if event.sender == alice.user_id]
    assert [event.body for event in own] == ["Melding SP-0042 is ontvangen."]


async def test_restored_client_keeps_encrypted_traffic_working(
    synapse: SynapseServer, matrix_user
) -> None:
    alice = await matrix_user("alice")
    bob = await matrix_user("bob")
    alice_inbox, bob_inbox = Inbox(alice), Inbox(bob)
    room_id = await open_encrypted_dm(alice, bob)
    await send_notice(alice, room_id, "voor de herstart (alice)")
    await expect_notice(bob, bob_inbox, room_id, "voor de herstart (alice)")
    await send_notice(bob, room_id, "voor de herstart (bob)")
    await expect_notice(alice, alice_inbox, room_id, "voor de herstart (alice)")
    await expect_notice(alice, alice_inbox, room_id, "voor de herstart (bob)")

    # Shut down the way the bot does: close the HTTP session, never log out.
    user_id, device_id, access_token = alice.user_id, alice.device_id, alice.access_token
    identity_keys = dict(alice.olm.account.identity_keys)
    last_token = alice.next_batch
    store_path = alice.store_path
    await alice.close()

    restored = await restore_matrix_client(synapse, store_path, user_id, device_id, access_token)
    try:
        assert restored.olm is not None, "crypto store not loaded"
        assert dict(restored.olm.account.identity_keys) == identity_keys
        assert restored.loaded_sync_token == last_token
        assert restored.rooms == {}, "nio does not persist room state"
        restored_inbox = Inbox(restored)

        # First sync after a restart: from the stored token, with full state, so the
        # room list is rebuilt without replaying the old timeline.
        await sync_client(restored, full_state=True)
        assert room_id in restored.rooms and restored.rooms[room_id].encrypted
        assert restored_inbox.bodies(room_id) == [], "old events were delivered again"

        # Bob -> restored Alice: Bob's existing megolm session, Alice's stored inbound key.
        await send_notice(bob, room_id, "na de herstart (bob)")
        await expect_notice(restored, restored_inbox, room_id, "na de herstart (bob)")

        # Restored Alice -> Bob: a new outbound session over the stored Olm account.
        await send_notice(restored, room_id, "na de herstart (alice)")
        await expect_notice(bob, bob_inbox, room_id, "na de herstart (alice)")
    finally:
        await restored.close()


async def test_tight_rate_limit_answers_limit_exceeded(
    synapse_tight_rate_limit: SynapseServer, tmp_path: Path
) -> None:
    alice = await make_matrix_user(synapse_tight_rate_limit, tmp_path, "alice")
    try:
        created = await alice.room_create(preset=RoomPreset.private_chat)
        assert isinstance(created, RoomCreateResponse), created
        await sync_client(alice)

        responses = []
        for number in range(10):
            response = await alice.room_send(
                created.room_id, "m.room.message", notice(f"bericht {number}")
            )
            responses.append(response)
            if isinstance(response, RoomSendError):
                break

        limited = responses[-1]
        assert isinstance(limited, RoomSendError), responses
        assert limited.status_code == "M_LIMIT_EXCEEDED"
        assert limited.retry_after_ms and limited.retry_after_ms > 0
        assert all(isinstance(r, RoomSendResponse) for r in responses[:-1])
    finally:
        await alice.close()
