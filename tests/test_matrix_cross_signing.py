"""The bot cross-signs its own device on a real Synapse: what any client sees in /keys/query."""

import json

import aiohttp

from bot.matrix_cross_signing import IDENTITY_FILE, fingerprint, signature_valid
from tests.matrix_people import MatrixWorld
from tests.test_cli import weerbaar

#: The smallest valid PNG (one transparent pixel).
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ff"
                    "ff3f0005fe02fea7d6a4840000000049454e44ae426082")

PICKLE = {"WEERBAAR_MATRIX_PICKLE_KEY": "test-pickle-key"}


def write_config(world) -> str:
    """A config.toml for the world's bot, as an operator would write it (Matrix only)."""
    path = world.tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{world.tmp_path}/cli.db"\n\n'
        f'[matrix]\nhomeserver = "{world.synapse.base_url}"\nuser_id = "{world.bot_user_id}"\n'
        f'state_dir = "{world.tmp_path / "bot-matrix-state"}"\n\n'
        '[[parks]]\nslug = "spaanse-polder"\nname = "De Spaanse Polder"\nprefix = "SP"\n'
        '[[parks.categories]]\nkey = "drugs"\nname_nl = "Drugs"\nname_en = "Drugs"\nroles = ["police"]\n')
    return str(path)


async def own_keys_as_seen_by(person, bot_user_id: str) -> dict:
    """What the person's client learns from the homeserver about the bot's keys."""
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{person.client.homeserver}/_matrix/client/v3/keys/query",
                                json={"device_keys": {bot_user_id: []}},
                                headers={"Authorization": f"Bearer {person.client.access_token}"}) as response:
            assert response.status == 200
            return await response.json()


def chain_of(keys: dict, user_id: str, device_id: str) -> tuple[str, str, dict]:
    master = keys["master_keys"][user_id]
    self_signing = keys["self_signing_keys"][user_id]
    assert master["usage"] == ["master"] and self_signing["usage"] == ["self_signing"]
    master_key = next(iter(master["keys"].values()))
    self_signing_key = next(iter(self_signing["keys"].values()))
    assert signature_valid(self_signing, user_id, master_key), "self-signing key not signed by the master key"
    device = keys["device_keys"][user_id][device_id]
    return master_key, self_signing_key, device


async def test_the_bot_signs_its_device_with_its_own_identity_and_keeps_it(world):
    person = await world.person("anna")
    bot = world.adapter
    user_id, device_id = bot.client.user_id, bot.client.device_id
    keys = await own_keys_as_seen_by(person, user_id)
    master_key, self_signing_key, device = chain_of(keys, user_id, device_id)
    assert signature_valid(device, user_id, self_signing_key), "the bot's device is not cross-signed"
    assert bot.master_key == master_key
    name = await person.client.get_displayname(user_id)
    assert name.displayname == "Weerbaar"                 # not the bare localpart
    stored = world.tmp_path / "bot-matrix-state" / IDENTITY_FILE
    assert stored.stat().st_mode & 0o077 == 0, "the private keys are readable by the owner only"
    assert set(json.loads(stored.read_text())) == {"user_id", "master", "self_signing", "user_signing"}

    await world.bot.restart()
    again = await own_keys_as_seen_by(person, user_id)
    assert chain_of(again, user_id, device_id)[0] == master_key, "a restart must keep the identity"
    await world.bot.stop()

    config_path = write_config(world)
    result = weerbaar("matrix", "identity", "--config", config_path, env=PICKLE)
    assert result.returncode == 0, result.stderr
    printed = result.stdout
    assert fingerprint(master_key) in printed
    assert "signed by this identity" in printed


async def test_an_identity_the_bot_does_not_hold_is_reported_and_reset_on_request(world):
    person = await world.person("bert")
    bot = world.adapter
    user_id, device_id = bot.client.user_id, bot.client.device_id
    old_master = bot.master_key
    await world.bot.stop()
    (world.tmp_path / "bot-matrix-state" / IDENTITY_FILE).unlink()  # the keys are lost

    await world.bot.start()
    assert world.adapter.master_key is None, "the bot must not replace an identity it does not hold"
    keys = await own_keys_as_seen_by(person, user_id)
    assert chain_of(keys, user_id, device_id)[0] == old_master
    await world.bot.stop()

    result = weerbaar("matrix", "identity", "--config", write_config(world), env=PICKLE)
    assert "reset-identity" in result.stdout, result.stderr

    result = weerbaar("matrix", "reset-identity", "--config", write_config(world), env=PICKLE)
    assert result.returncode == 2 and "password" in result.stderr
    result = weerbaar("matrix", "reset-identity", "--config", write_config(world),
                      env={**PICKLE, "WEERBAAR_MATRIX_PASSWORD": world._bot_password})
    assert result.returncode == 0, result.stderr
    printed = result.stdout
    keys = await own_keys_as_seen_by(person, user_id)
    new_master, self_signing_key, device = chain_of(keys, user_id, device_id)
    assert new_master != old_master and fingerprint(new_master) in printed
    assert signature_valid(device, user_id, self_signing_key)


async def test_a_configured_avatar_and_display_name_are_set(synapse, sqlite_database, clock, tmp_path):
    avatar = tmp_path / "schild.png"
    avatar.write_bytes(PNG)
    world = MatrixWorld(synapse, tmp_path, sqlite_database, clock)
    try:
        await world.start_bot(display_name="Weerbaar Spaanse Polder", avatar=str(avatar))
        person = await world.person("carla")
        assert (await person.client.get_displayname(world.bot_user_id)).displayname == "Weerbaar Spaanse Polder"
        assert (await person.client.get_avatar(world.bot_user_id)).avatar_url.startswith("mxc://")
    finally:
        await world.close()


async def test_a_new_device_of_the_bot_is_signed_with_the_identity_it_keeps(world):
    person = await world.person("dirk")
    user_id, old_device, master = world.bot_user_id, world.adapter.client.device_id, world.adapter.master_key
    await world.bot.stop()
    state = world.tmp_path / "bot-matrix-state"
    (state / "session.json").unlink()                    # the login is gone, the identity file is not
    await world.bot.start()
    new_device = world.adapter.client.device_id
    assert new_device != old_device
    keys = await own_keys_as_seen_by(person, user_id)
    same_master, self_signing_key, device = chain_of(keys, user_id, new_device)
    assert same_master == master and signature_valid(device, user_id, self_signing_key)
