"""The bot's Matrix login: made once, kept in the state directory, restored on every start.

``state_dir/session.json`` holds user id, device id and access token (readable by the
owner only); ``state_dir/store/`` holds nio's E2EE store (Olm account, Megolm sessions,
device trust and the sync token), encrypted with the pickle key. The bot never logs out:
logging out deletes the device and with it every key people encrypted to.
"""

import json
import logging
import os
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, LoginResponse, WhoamiResponse

from bot.config import MATRIX_SESSION_FILE, MatrixConfig

log = logging.getLogger(__name__)

DEFAULT_PICKLE_KEY = "weerbaar-matrix-store"


class MatrixLoginError(RuntimeError):
    """The homeserver refused the login, or the kept login no longer fits the config."""


def client_config(pickle_key: str | None = None) -> AsyncClientConfig:
    """E2EE on, and nio never sleeps on its own: the outbox retries instead.

    The sync token is not saved by nio (it would save it before the events are handled): the
    adapter saves it once the sync's events are stored in the inbox.
    """
    return AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False, max_limit_exceeded=0,
                             max_timeouts=0, request_timeout=60, pickle_key=pickle_key or DEFAULT_PICKLE_KEY)


def session_file(config: MatrixConfig) -> Path:
    """Where the bot keeps its login (user id, device id, access token)."""
    return config.state_dir / MATRIX_SESSION_FILE


def _paths(config: MatrixConfig) -> tuple[Path, Path]:
    return session_file(config), config.state_dir / "store"


def _new_client(config: MatrixConfig, store: Path, device_id: str | None = None) -> AsyncClient:
    return AsyncClient(config.homeserver, config.user_id, device_id=device_id, store_path=str(store),
                       config=client_config(config.pickle_key))


async def open_client(config: MatrixConfig) -> AsyncClient:
    """A logged-in client with its crypto store loaded: restored if possible, else a fresh login."""
    session_file, store = _paths(config)
    store.mkdir(parents=True, exist_ok=True)
    os.chmod(config.state_dir, 0o700)
    if session_file.exists():
        saved = json.loads(session_file.read_text(encoding="utf-8"))
        if saved.get("user_id") != config.user_id:
            raise MatrixLoginError(f"{session_file} belongs to {saved.get('user_id')}, not matrix.user_id "
                                   f"{config.user_id}; use another matrix.state_dir")
        client = _new_client(config, store, saved["device_id"])
        client.restore_login(saved["user_id"], saved["device_id"], saved["access_token"])
        log.info("Matrix login restored (device %s)", saved["device_id"])
        return client
    if config.access_token:
        probe = AsyncClient(config.homeserver, config.user_id)
        probe.access_token = config.access_token
        try:
            who = await probe.whoami()
        finally:
            await probe.close()
        if not isinstance(who, WhoamiResponse) or who.user_id != config.user_id or not who.device_id:
            raise MatrixLoginError(f"the access token does not belong to {config.user_id} with a device: {who}")
        client = _new_client(config, store, who.device_id)
        client.restore_login(config.user_id, who.device_id, config.access_token)
    else:
        client = _new_client(config, store)
        response = await client.login(config.password, device_name=config.device_name)
        if not isinstance(response, LoginResponse):
            await client.close()
            raise MatrixLoginError(f"login of {config.user_id} failed: {getattr(response, 'message', response)}")
    _save(session_file, {"user_id": client.user_id, "device_id": client.device_id,
                         "access_token": client.access_token, "homeserver": config.homeserver})
    log.info("Matrix login made (device %s); kept in %s", client.device_id, config.state_dir)
    return client


def _save(path: Path, data: dict) -> None:
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(temporary, path)
