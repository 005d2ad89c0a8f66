"""The bot cross-signs its own device, so Element shows no warning on its messages and strict clients talk to it.

Modern Element (MSC4153, "exclude insecure devices") only trusts a device that its owner
signed with the account's self-signing key. matrix-nio has no API for cross-signing
(matrix-nio#229), so this module speaks the client-server API itself:

1. ``POST /keys/query`` for the bot's own keys.
2. No master key on the account yet: create master, self-signing and user-signing keys
   (ed25519, each held by a vodozemac ``Account`` -- the crypto library nio already uses),
   keep them encrypted with the pickle key in ``state_dir/cross_signing.json``, and publish
   them with ``POST /keys/device_signing/upload``, answering user-interactive auth with the
   bot's password when the homeserver asks for it.
3. The bot's device not signed by the self-signing key: sign its device keys (canonical
   JSON, the spec's signing rules) and publish with ``POST /keys/signatures/upload``.

A master key on the account that is not the one kept here (another client set up
cross-signing for the bot's account, or the state directory was lost) is never replaced
silently: the bot says what to do -- ``weerbaar matrix reset-identity`` -- and runs on
unsigned. Everything here uses plain HTTP with the bot's access token, so the commands
``weerbaar matrix identity`` and ``reset-identity`` need neither nio's store nor a sync.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import vodozemac

from bot.config import MatrixConfig
from bot.matrix_session import DEFAULT_PICKLE_KEY, session_file

log = logging.getLogger(__name__)

IDENTITY_FILE = "cross_signing.json"
ROLES = ("master", "self_signing", "user_signing")
RESET_HINT = ("run 'weerbaar matrix reset-identity' (with the bot stopped and its password in the environment) "
              "to give the bot a new identity; people who verified the old one will be asked to verify again")


class CrossSigningError(RuntimeError):
    """Cross-signing cannot be set up; the message says what the operator must do."""


@dataclass(frozen=True)
class Login:
    """What a request needs: where, who, which device, and the token."""

    homeserver: str
    user_id: str
    device_id: str
    access_token: str


@dataclass
class CrossSigningKeys:
    """The three private keys of the bot's identity."""

    master: vodozemac.Account
    self_signing: vodozemac.Account
    user_signing: vodozemac.Account

    @classmethod
    def generate(cls) -> CrossSigningKeys:
        return cls(vodozemac.Account(), vodozemac.Account(), vodozemac.Account())

    def public(self, role: str) -> str:
        return getattr(self, role).ed25519_key.to_base64()

    def save(self, path: Path, user_id: str, pickle_key: str | None) -> None:
        key = _file_key(pickle_key)
        data = {"user_id": user_id, **{role: getattr(self, role).pickle(key) for role in ROLES}}
        temporary = path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path, user_id: str, pickle_key: str | None) -> CrossSigningKeys | None:
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("user_id") != user_id:
            raise CrossSigningError(f"{path} holds the identity of {data.get('user_id')}, not {user_id}")
        key = _file_key(pickle_key)
        try:
            return cls(*(vodozemac.Account.from_pickle(data[role], key) for role in ROLES))
        except vodozemac.PickleException:
            raise CrossSigningError(f"{path} cannot be decrypted with the configured pickle key "
                                    "(matrix.pickle_key_env); set the key it was made with") from None


def _file_key(pickle_key: str | None) -> bytes:
    """The 32-byte key that encrypts the private keys, derived from the configured pickle key."""
    return hashlib.sha256(b"weerbaar cross-signing\0" + (pickle_key or DEFAULT_PICKLE_KEY).encode()).digest()


def canonical_json(value) -> bytes:
    """The spec's canonical JSON: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def signed(value: dict, user_id: str, signer: vodozemac.Account) -> dict:
    """``value`` with the signer's signature added (``signatures`` and ``unsigned`` are not signed)."""
    body = {key: item for key, item in value.items() if key not in ("signatures", "unsigned")}
    signature = signer.sign(canonical_json(body)).to_base64()
    result = copy.deepcopy(value)
    result.pop("unsigned", None)
    key_id = f"ed25519:{signer.ed25519_key.to_base64()}"
    result.setdefault("signatures", {}).setdefault(user_id, {})[key_id] = signature
    return result


def signature_valid(value: dict, user_id: str, public_key: str) -> bool:
    """Whether ``value`` carries a valid signature of ``user_id``'s ed25519 ``public_key``."""
    signature = (value.get("signatures") or {}).get(user_id, {}).get(f"ed25519:{public_key}")
    if not isinstance(signature, str):
        return False
    body = {key: item for key, item in value.items() if key not in ("signatures", "unsigned")}
    try:
        vodozemac.Ed25519PublicKey.from_base64(public_key).verify_signature(
            canonical_json(body), vodozemac.Ed25519Signature.from_base64(signature))
    except (vodozemac.SignatureException, vodozemac.KeyException, ValueError):
        return False
    return True


def fingerprint(public_key: str) -> str:
    """A public key in groups of four characters, as Element shows keys, for reading aloud."""
    return " ".join(public_key[index:index + 4] for index in range(0, len(public_key), 4))


def identity_path(config: MatrixConfig) -> Path:
    return config.state_dir / IDENTITY_FILE


def _key_object(user_id: str, usage: str, public_key: str) -> dict:
    return {"user_id": user_id, "usage": [usage], "keys": {f"ed25519:{public_key}": public_key}}


def _public_of(key_object: dict | None) -> str | None:
    keys = list((key_object or {}).get("keys", {}).values())
    return keys[0] if len(keys) == 1 and isinstance(keys[0], str) else None


@dataclass(frozen=True)
class ServerIdentity:
    """What the homeserver publishes about the bot: master and self-signing key, and its device."""

    master: str | None
    self_signing: str | None
    device: dict | None
    self_signing_object: dict | None

    def device_signed(self, user_id: str) -> bool:
        return (self.device is not None and self.self_signing is not None
                and signature_valid(self.device, user_id, self.self_signing))

    def chain_valid(self, user_id: str) -> bool:
        """master → self-signing → device, all signatures valid."""
        return (self.master is not None and self.self_signing_object is not None
                and signature_valid(self.self_signing_object, user_id, self.master) and self.device_signed(user_id))


class Homeserver:
    """The few client-server API calls cross-signing needs, with the bot's token."""

    def __init__(self, login: Login, session: aiohttp.ClientSession):
        self.login = login
        self.session = session

    async def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        async with self.session.request(method, self.login.homeserver + path, json=body,
                                        headers={"Authorization": f"Bearer {self.login.access_token}"}) as response:
            try:
                answer = await response.json(content_type=None)
            except ValueError:
                answer = {}
            return response.status, answer if isinstance(answer, dict) else {}

    async def identity(self) -> ServerIdentity:
        user_id, device_id = self.login.user_id, self.login.device_id
        status, body = await self.request("POST", "/_matrix/client/v3/keys/query",
                                          {"device_keys": {user_id: [device_id]}})
        if status != 200:
            raise ConnectionError(f"keys/query answered {status} {body.get('errcode', '')}")
        master = body.get("master_keys", {}).get(user_id)
        self_signing = body.get("self_signing_keys", {}).get(user_id)
        device = body.get("device_keys", {}).get(user_id, {}).get(device_id)
        return ServerIdentity(_public_of(master), _public_of(self_signing), device, self_signing)

    async def upload_keys(self, keys: CrossSigningKeys, password: str | None) -> None:
        """Publish the three public keys, the two sub-keys signed by the master key."""
        user_id = self.login.user_id
        master = _key_object(user_id, "master", keys.public("master"))
        body = {"master_key": master,
                "self_signing_key": signed(_key_object(user_id, "self_signing", keys.public("self_signing")),
                                           user_id, keys.master),
                "user_signing_key": signed(_key_object(user_id, "user_signing", keys.public("user_signing")),
                                           user_id, keys.master)}
        path = "/_matrix/client/v3/keys/device_signing/upload"
        status, answer = await self.request("POST", path, body)
        if status == 401 and "flows" in answer:
            if not any("m.login.password" in flow.get("stages", []) for flow in answer.get("flows", [])):
                raise CrossSigningError("the homeserver wants an authentication other than the password to publish "
                                        "the bot's cross-signing keys; allow it once for the bot's account")
            if not password:
                raise CrossSigningError("the homeserver asks for the bot's password to publish its cross-signing "
                                        "keys: set the password's environment variable (matrix.password_env) "
                                        "and start the bot again")
            body["auth"] = {"type": "m.login.password", "session": answer.get("session"), "password": password,
                            "identifier": {"type": "m.id.user", "user": user_id}}
            status, answer = await self.request("POST", path, body)
        if status == 401 or status == 403:
            raise CrossSigningError(f"the homeserver refused the bot's password for publishing its cross-signing "
                                    f"keys ({answer.get('errcode', status)}); check matrix.password_env")
        if status != 200:
            raise ConnectionError(f"keys/device_signing/upload answered {status} {answer.get('errcode', '')}")

    async def sign_device(self, keys: CrossSigningKeys, device: dict) -> None:
        """Publish the self-signing key's signature over the bot's device keys."""
        user_id, device_id = self.login.user_id, self.login.device_id
        signature = signed(device, user_id, keys.self_signing)
        status, answer = await self.request("POST", "/_matrix/client/v3/keys/signatures/upload",
                                            {user_id: {device_id: signature}})
        failures = answer.get("failures") or {}
        if status != 200 or failures:
            raise ConnectionError(f"keys/signatures/upload answered {status} {json.dumps(failures)[:200]}")


async def ensure_cross_signed(login: Login, config: MatrixConfig) -> str:
    """Make the bot's device cross-signed by its own identity; returns the master public key.

    Creates the identity on first use, signs a device found unsigned, and raises
    ``CrossSigningError`` (with what to do) when the account holds an identity this bot
    does not have the keys of.
    """
    path = identity_path(config)
    async with aiohttp.ClientSession() as session:
        server = Homeserver(login, session)
        published = await server.identity()
        if published.device is None:
            raise ConnectionError("the homeserver does not know the bot's device keys yet")
        keys = CrossSigningKeys.load(path, login.user_id, config.pickle_key)
        if published.master is None:
            if keys is None:
                keys = CrossSigningKeys.generate()
                keys.save(path, login.user_id, config.pickle_key)  # kept before publishing: never lost
            await server.upload_keys(keys, config.password)
            log.info("published the bot's cross-signing keys (master key %s)", keys.public("master"))
        elif keys is None or keys.public("master") != published.master \
                or keys.public("self_signing") != published.self_signing:
            raise CrossSigningError(f"the Matrix account {login.user_id} has cross-signing keys that are not in "
                                    f"{path}, so the bot cannot sign its device and Element will warn about its "
                                    f"messages; {RESET_HINT}")
        if not published.device_signed(login.user_id):
            await server.sign_device(keys, published.device)
            log.info("signed the bot's device %s with its self-signing key", login.device_id)
        return keys.public("master")


async def reset_identity(login: Login, config: MatrixConfig) -> str:
    """A new identity replacing whatever the account has (needs the password); returns the master key."""
    if not config.password:
        raise CrossSigningError("reset-identity needs the bot's password: set the environment variable named by "
                                "matrix.password_env")
    keys = CrossSigningKeys.generate()
    async with aiohttp.ClientSession() as session:
        server = Homeserver(login, session)
        published = await server.identity()
        if published.device is None:
            raise CrossSigningError("the homeserver does not know the bot's device; start the bot once first")
        await server.upload_keys(keys, config.password)
        keys.save(identity_path(config), login.user_id, config.pickle_key)
        await server.sign_device(keys, published.device)
    return keys.public("master")


async def describe_identity(login: Login, config: MatrixConfig) -> list[str]:
    """Lines for ``weerbaar matrix identity``: the fingerprint and whether the homeserver agrees."""
    keys = CrossSigningKeys.load(identity_path(config), login.user_id, config.pickle_key)
    async with aiohttp.ClientSession() as session:
        published = await Homeserver(login, session).identity()
    lines = [f"Matrix account: {login.user_id} (device {login.device_id})"]
    if keys is None:
        lines.append("This bot has no cross-signing identity yet: it creates one when it starts.")
    else:
        lines.append(f"Master key fingerprint: {fingerprint(keys.public('master'))}")
    if published.master is None:
        lines.append("The homeserver has no cross-signing keys for the account yet.")
    elif keys is None or published.master != keys.public("master"):
        lines.append(f"The account has a different master key ({fingerprint(published.master)}): {RESET_HINT}.")
    elif published.chain_valid(login.user_id):
        lines.append("The bot's device is signed by this identity: Element shows its messages without a warning.")
    else:
        lines.append("The bot's device is not signed yet: it signs it when it starts.")
    return lines


def saved_login(config: MatrixConfig) -> Login:
    """The login the bot keeps in its state directory (made on its first start)."""
    path = session_file(config)
    if not path.exists():
        raise CrossSigningError(f"the bot has not logged in yet ({path} is missing): start it once with "
                                "'weerbaar run'")
    saved = json.loads(path.read_text(encoding="utf-8"))
    return Login(config.homeserver, saved["user_id"], saved["device_id"], saved["access_token"])
