"""A real Synapse homeserver on loopback, for tests that exercise the Matrix stack.

``SynapseServer`` writes a minimal ``homeserver.yaml`` into a temporary directory,
starts ``python -m synapse.app.homeserver`` from the running interpreter
(``sys.executable``, so the same virtualenv) as a subprocess, and waits until
``/_matrix/client/versions`` answers. Users are created with Synapse's shared-secret
registration admin API (``/_synapse/admin/v1/register``), which is the only way in:
open registration is off.

The server is plain HTTP on ``127.0.0.1`` with SQLite, no federation, no metrics, no
presence, cheap password hashing, and rate limits raised so high that tests never meet them -- unless the
server is built with ``tight_message_rate_limit=True``, which keeps ``rc_message`` at
a burst of two messages so a test can provoke ``M_LIMIT_EXCEEDED``.

Start-up is a blocking call (``start()``), so a *synchronous* session-scoped pytest
fixture can own the server without tying it to any asyncio event loop; see
``tests/matrix_fixtures.py``. ``register()`` is async and uses aiohttp, like nio does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO

import aiohttp

#: Rate limit settings that no test comes near: (per_second, burst_count).
_UNLIMITED = {"per_second": 10_000, "burst_count": 100_000}

#: ``rc_message`` for a server that must answer ``M_LIMIT_EXCEEDED`` quickly: a
#: burst of two messages, then one message per 20 s (so ``retry_after_ms`` is large
#: enough to be seen, but the limiter recovers within the same test session).
TIGHT_MESSAGE_RATE_LIMIT = {"per_second": 0.05, "burst_count": 2}

_START_ATTEMPTS = 3  # a fresh free port per attempt, in case another process took ours


class SynapseStartError(RuntimeError):
    """Synapse could not be started (not installed, bad config, did not come up)."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(message)
        self.log_tail = log_tail

    def __str__(self) -> str:
        text = super().__str__()
        if self.log_tail:
            text += "\n--- Synapse log tail ---\n" + self.log_tail
        return text


class SynapseRegistrationError(RuntimeError):
    """The shared-secret registration API refused to create a user."""


def synapse_installed() -> bool:
    """Whether matrix-synapse can be imported by the running interpreter."""
    import importlib.util

    return importlib.util.find_spec("synapse") is not None


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _new_signing_key() -> str:
    """A Synapse ed25519 signing key line: ``ed25519 <version> <unpadded base64 seed>``."""
    seed = base64.b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
    return f"ed25519 a_{secrets.token_hex(2)} {seed}"


def registration_mac(
    shared_secret: str, nonce: str, username: str, password: str, admin: bool
) -> str:
    """HMAC-SHA1 over ``nonce\\0username\\0password\\0admin|notadmin``, hex encoded."""
    message = b"\x00".join(
        part.encode("utf-8")
        for part in (nonce, username, password, "admin" if admin else "notadmin")
    )
    return hmac.new(shared_secret.encode("utf-8"), message, hashlib.sha1).hexdigest()


class SynapseServer:
    """One Synapse process on a free loopback port, with its files in a temp dir.

    Use ``start()``/``stop()`` or the context manager. ``base_url`` and
    ``server_name`` describe the running server; ``log_tail()`` shows what went wrong.
    """

    def __init__(
        self,
        *,
        server_name: str = "weerbaar.test",
        tight_message_rate_limit: bool = False,
        start_timeout: float = 60.0,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.server_name = server_name
        self.tight_message_rate_limit = tight_message_rate_limit
        self.start_timeout = start_timeout
        self._base_dir = base_dir
        self.shared_secret = secrets.token_urlsafe(32)
        self.directory: Path | None = None
        self.port: int | None = None
        self.startup_seconds: float | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._console: BinaryIO | None = None
        self._owns_directory = False

    # -- life cycle -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("Synapse is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> SynapseServer:
        """Start Synapse and block until its client API answers (or raise SynapseStartError)."""
        if self.running:
            return self
        if not synapse_installed():
            raise SynapseStartError(
                f"matrix-synapse is not installed for {sys.executable} "
                "(pip install 'matrix-synapse')"
            )
        if self._base_dir is None:
            self.directory = Path(tempfile.mkdtemp(prefix="weerbaar-synapse-"))
            self._owns_directory = True
        else:
            self.directory = Path(self._base_dir)
            self.directory.mkdir(parents=True, exist_ok=True)

        began = time.monotonic()
        last_error: SynapseStartError | None = None
        for _ in range(_START_ATTEMPTS):
            self.port = _free_loopback_port()
            config_path = self._write_config()
            self._spawn(config_path)
            try:
                self._wait_until_ready(deadline=began + self.start_timeout)
            except SynapseStartError as error:
                last_error = error
                address_taken = "Address already in use" in error.log_tail
                self._terminate()
                if address_taken and time.monotonic() < began + self.start_timeout:
                    continue
                raise
            self.startup_seconds = time.monotonic() - began
            return self
        assert last_error is not None
        raise last_error

    def stop(self) -> None:
        """Terminate Synapse, wait for it to exit, and remove its temp dir."""
        self._terminate()
        if self._owns_directory and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
            self._owns_directory = False

    def __enter__(self) -> SynapseServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        if self._console is not None:
            self._console.close()
            self._console = None

    # -- configuration ----------------------------------------------------------

    @property
    def log_path(self) -> Path:
        assert self.directory is not None
        return self.directory / "homeserver.log"

    @property
    def console_path(self) -> Path:
        """stdout/stderr of the process: errors from before logging is set up."""
        assert self.directory is not None
        return self.directory / "console.log"

    def homeserver_config(self) -> dict:
        """The homeserver.yaml content (JSON is valid YAML, so it is written as JSON)."""
        assert self.directory is not None and self.port is not None
        rc_message = TIGHT_MESSAGE_RATE_LIMIT if self.tight_message_rate_limit else _UNLIMITED
        return {
            "server_name": self.server_name,
            "public_baseurl": f"http://127.0.0.1:{self.port}/",
            "pid_file": str(self.directory / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    # "client" also mounts /_synapse/admin (shared-secret registration).
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": str(self.directory / "homeserver.db")},
            },
            "log_config": str(self.directory / "log_config.yaml"),
            "media_store_path": str(self.directory / "media_store"),
            "signing_key": _new_signing_key(),
            "registration_shared_secret": self.shared_secret,
            "enable_registration": False,
            # Cheapest bcrypt: registration and login hash the password (12 rounds ~0.25 s).
            "bcrypt_rounds": 4,
            "report_stats": False,
            "enable_metrics": False,
            "suppress_key_server_warning": True,
            "trusted_key_servers": [],
            "federation_domain_whitelist": [],
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            "rc_message": rc_message,
            "rc_registration": _UNLIMITED,
            "rc_login": {
                "address": _UNLIMITED,
                "account": _UNLIMITED,
                "failed_attempts": _UNLIMITED,
            },
            "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
            "rc_joins_per_room": _UNLIMITED,
            "rc_invites": {
                "per_room": _UNLIMITED,
                "per_user": _UNLIMITED,
                "per_issuer": _UNLIMITED,
            },
            "rc_3pid_validation": _UNLIMITED,
            "rc_third_party_invite": _UNLIMITED,
            "rc_room_creation": _UNLIMITED,
            "rc_key_requests": _UNLIMITED,
            "rc_admin_redaction": _UNLIMITED,
            "rc_media_create": _UNLIMITED,
            "rc_presence": {"per_user": _UNLIMITED},
            "rc_delayed_event_mgmt": _UNLIMITED,
            "rc_reports": _UNLIMITED,
            "rc_user_directory": _UNLIMITED,
            "rc_profile": _UNLIMITED,
        }

    def _logging_config(self) -> dict:
        return {
            "version": 1,
            "formatters": {
                "precise": {
                    "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(message)s"
                }
            },
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "precise",
                    "filename": str(self.log_path),
                    "level": "WARNING",
                    "encoding": "utf8",
                }
            },
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }

    def _write_config(self) -> Path:
        assert self.directory is not None
        (self.directory / "media_store").mkdir(exist_ok=True)
        (self.directory / "log_config.yaml").write_text(
            json.dumps(self._logging_config(), indent=2), encoding="utf-8"
        )
        config_path = self.directory / "homeserver.yaml"
        config_path.write_text(json.dumps(self.homeserver_config(), indent=2), encoding="utf-8")
        return config_path

    # -- process ----------------------------------------------------------------

    def _spawn(self, config_path: Path) -> None:
        assert self.directory is not None
        self._console = open(self.console_path, "ab")  # noqa: SIM115 - closed in _terminate
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNAPSE_")}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "--config-path", str(config_path)],
            cwd=self.directory,
            stdin=subprocess.DEVNULL,
            stdout=self._console,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def _client_api_answers(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"{self.base_url}/_matrix/client/versions", timeout=2
            ) as response:
                return response.status == 200 and "versions" in json.load(response)
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            return False

    def _wait_until_ready(self, deadline: float) -> None:
        """Poll the client API; between attempts, wait on the process exiting (50 ms)."""
        assert self._process is not None
        while True:
            # Also require our process alive: another server could hold the port.
            if self._client_api_answers() and self._process.poll() is None:
                return
            try:
                code = self._process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    raise SynapseStartError(
                        f"Synapse did not answer on {self.base_url} within "
                        f"{self.start_timeout:.0f} s",
                        self.log_tail(),
                    ) from None
                continue
            raise SynapseStartError(
                f"Synapse exited with code {code} during start-up", self.log_tail()
            )

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the Synapse log and of its console output."""
        if self.directory is None:
            return ""
        parts = []
        for path in (self.console_path, self.log_path):
            if path.exists():
                text = path.read_text(encoding="utf-8", errors="replace").splitlines()
                if text:
                    parts.append(f"[{path.name}]\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)

    # -- users ------------------------------------------------------------------

    async def register(
        self, localpart: str, password: str, admin: bool = False
    ) -> tuple[str, str]:
        """Create a user with shared-secret registration; return (user_id, password)."""
        url = f"{self.base_url}/_synapse/admin/v1/register"
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as response:
                body = await response.json()
                if response.status != 200:
                    raise SynapseRegistrationError(f"nonce request failed: {body}")
                nonce = body["nonce"]
            payload = {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": registration_mac(self.shared_secret, nonce, localpart, password, admin),
            }
            async with session.post(url, json=payload) as response:
                body = await response.json()
                if response.status != 200:
                    raise SynapseRegistrationError(
                        f"registering {localpart!r} failed ({response.status}): {body}"
                    )
        return body["user_id"], password

    def user_id(self, localpart: str) -> str:
        return f"@{localpart}:{self.server_name}"

