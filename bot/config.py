"""Reading and checking ``config.toml``; every error names the full dotted key."""

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handlers.durations import parse_duration
from handlers.services import DEFAULT_OFFICIAL_ROLES

TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")
PLACEHOLDER_PATTERN = re.compile(r"change.?me|your.?token|placeholder|xxx|<.*>|123456:ABC|^\s*$", re.I)
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
PREFIX_PATTERN = re.compile(r"^[A-Z]{1,8}$")
ROLE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
DEFAULT_TOKEN_ENV = "WEERBAAR_TELEGRAM_TOKEN"
DEFAULT_DATABASE_URL_ENV = "WEERBAAR_DATABASE_URL"
DEFAULT_WEBHOOK_SECRET_ENV = "WEERBAAR_TELEGRAM_WEBHOOK_SECRET"
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
MATRIX_USER_PATTERN = re.compile(r"^@[a-z0-9._=/+-]+:[A-Za-z0-9.-]+(:\d+)?$")
DEFAULT_MATRIX_PASSWORD_ENV = "WEERBAAR_MATRIX_PASSWORD"
DEFAULT_MATRIX_TOKEN_ENV = "WEERBAAR_MATRIX_ACCESS_TOKEN"
DEFAULT_MATRIX_PICKLE_KEY_ENV = "WEERBAAR_MATRIX_PICKLE_KEY"
MATRIX_SESSION_FILE = "session.json"


class ConfigError(ValueError):
    def __init__(self, key: str, problem: str):
        super().__init__(f"config error at '{key}': {problem}")
        self.key = key


@dataclass(frozen=True)
class CategoryConfig:
    key: str
    name_nl: str
    name_en: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class ReminderPolicy:
    first_after: timedelta = timedelta(days=2)
    repeat_every: timedelta = timedelta(days=1)
    escalate_after: int = 3
    urgent_first_after: timedelta = timedelta(hours=1)
    urgent_repeat_every: timedelta = timedelta(hours=1)
    urgent_in_working_time: bool = False
    work_start: time = time(8, 0)
    work_end: time = time(18, 0)
    work_days: tuple[int, ...] = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class ParkConfig:
    slug: str
    name: str
    prefix: str
    timezone: str
    categories: tuple[CategoryConfig, ...]
    policy: ReminderPolicy
    language: str = "nl"


@dataclass(frozen=True)
class WebhookConfig:
    """Telegram webhook mode: Telegram POSTs updates to ``url`` (behind a TLS reverse proxy).

    ``url`` is the public address given to ``setWebhook``; the bot listens on
    ``listen_host:listen_port`` at ``path`` (by default the URL's path). ``secret`` comes from
    the environment and is checked on every request.
    """

    url: str
    secret: str
    listen_host: str = "127.0.0.1"
    listen_port: int = 8443
    path: str = "/telegram"
    max_connections: int = 40

    def __repr__(self) -> str:  # never print the secret
        return f"WebhookConfig(url={self.url!r}, listen={self.listen_host}:{self.listen_port}{self.path})"


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    base_url: str | None = None
    base_file_url: str | None = None
    bot_username: str | None = None
    mode: str = "polling"  # or "webhook" (several instances behind a load balancer)
    webhook: WebhookConfig | None = None
    #: "telegram": sends keep to Telegram's limits; "off": not paced, only for a Bot API without
    #: flood control (the benchmark's fake; on Telegram itself it earns 429s).
    pacing: str = "telegram"


@dataclass(frozen=True)
class MatrixConfig:
    """The bot's Matrix account; secrets come from the environment, state lives in ``state_dir``."""

    homeserver: str
    user_id: str
    state_dir: Path
    password: str | None = None
    access_token: str | None = None
    device_name: str = "Weerbaar"
    pickle_key: str | None = None
    display_name: str = "Weerbaar"
    avatar: Path | None = None

    def __repr__(self) -> str:  # never print the secrets
        return f"MatrixConfig(homeserver={self.homeserver!r}, user_id={self.user_id!r}, state_dir={self.state_dir!r})"


@dataclass(frozen=True)
class MonitoringConfig:
    """Where ``/metrics``, ``/healthz`` and ``/readyz`` are served (loopback unless told otherwise)."""

    host: str = "127.0.0.1"
    port: int = 9464


@dataclass(frozen=True)
class Config:
    database_url: str
    parks: tuple[ParkConfig, ...]
    telegram: TelegramConfig | None
    matrix: MatrixConfig | None = None
    official_roles: tuple[str, ...] = DEFAULT_OFFICIAL_ROLES
    draft_idle_timeout: timedelta = timedelta(hours=24)
    invite_valid_for: timedelta = timedelta(days=7)
    sweep_interval: timedelta = timedelta(seconds=60)
    outbox_retention: timedelta = timedelta(days=30)
    log_level: str = "INFO"
    flood_per_minute: int = 30  # messages per person per minute handled; more are dropped (0: no limit)
    log_format: str = "text"
    monitoring: MonitoringConfig | None = None
    #: Threads for database work; None: the store's default (``storage.db.Database``).
    database_threads: int | None = None


def load_config(path: Path | str, environ: dict[str, str] | None = None, require_login: bool = True) -> Config:
    """The config file, checked; ``require_login=False`` for commands that only use the database (no secrets)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(str(path), "file not found; copy config.example.toml to config.toml and edit it")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(str(path), f"not valid TOML: {error}") from None
    return parse_config(raw, os.environ if environ is None else environ, base_dir=path.parent,
                        require_login=require_login)


def parse_config(raw: dict, environ, base_dir: Path = Path("."), require_login: bool = True) -> Config:
    bot = _table(raw, "bot")
    roles = tuple(_list(bot, "bot.official_roles", list(DEFAULT_OFFICIAL_ROLES)))
    for index, role in enumerate(roles):
        if not isinstance(role, str) or not ROLE_PATTERN.match(role) or role == "admin":
            raise ConfigError(f"bot.official_roles[{index}]", "a role is lower-case letters, digits and _ (not 'admin')")
    database = _table(raw, "database")
    # A URL with a password belongs in the environment (``database.url_env``), not in the file.
    url = environ.get(str(database.get("url_env", DEFAULT_DATABASE_URL_ENV))) or str(
        database.get("url", "sqlite:///data/weerbaar.db"))
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and ":memory:" not in url:
        url = "sqlite:///" + str((base_dir / url[len("sqlite:///"):]).resolve())
    parks_raw = raw.get("parks")
    if not isinstance(parks_raw, list) or not parks_raw:
        raise ConfigError("parks", "at least one [[parks]] table is needed")
    parks = tuple(_park(park, f"parks[{index}]", roles) for index, park in enumerate(parks_raw))
    _unique([p.slug for p in parks], "parks[].slug")
    _unique([p.prefix for p in parks], "parks[].prefix")
    return Config(
        database_url=url,
        parks=parks,
        telegram=_telegram(raw.get("telegram"), environ, require_login),
        matrix=_matrix(raw.get("matrix"), environ, base_dir, require_login),
        official_roles=roles,
        draft_idle_timeout=_duration(bot, "bot.draft_idle_timeout", "24h"),
        invite_valid_for=_duration(bot, "bot.invite_valid_for", "7d"),
        sweep_interval=_duration(bot, "bot.sweep_interval", "60s"),
        outbox_retention=_duration(bot, "bot.outbox_retention", "30d"),
        log_level=str(bot.get("log_level", "INFO")).upper(),
        log_format=_choice(bot, "bot.log_format", ("text", "json"), "text"),
        flood_per_minute=_flood_per_minute(bot),
        monitoring=_monitoring(raw.get("monitoring")),
        database_threads=_database_threads(database, url),
    )


def _database_threads(database: dict, url: str) -> int | None:
    """PostgreSQL's threads for database work (at most 8: the engine's pool holds 14 connections)."""
    value = database.get("threads")
    if value is None:
        return None
    if url.startswith("sqlite"):
        raise ConfigError("database.threads", "only for PostgreSQL; SQLite works with one thread (one writer)")
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 8:
        raise ConfigError("database.threads", "a whole number of threads from 1 to 8")
    return value


def _monitoring(raw) -> MonitoringConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("monitoring", "must be a table")
    host = raw.get("host", "127.0.0.1")
    if not isinstance(host, str) or not host:
        raise ConfigError("monitoring.host", "an address to listen on, e.g. 127.0.0.1")
    port = raw.get("port", 9464)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ConfigError("monitoring.port", "a port number (0-65535)")
    return MonitoringConfig(host=host, port=port)


def _choice(raw: dict, key: str, allowed: tuple[str, ...], default: str) -> str:
    value = raw.get(key.rsplit(".", 1)[-1], default)
    if value not in allowed:
        raise ConfigError(key, f"one of {', '.join(allowed)}")
    return value


def _flood_per_minute(bot: dict) -> int:
    value = bot.get("flood_per_minute", 30)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError("bot.flood_per_minute", "a whole number of messages per minute, 0 for no limit")
    return value


def _telegram(raw, environ, require_login: bool = True) -> TelegramConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("telegram", "must be a table")
    env_name = str(raw.get("token_env", DEFAULT_TOKEN_ENV))
    if "token" in raw:
        raise ConfigError("telegram.token", f"never put the token in the file; set the environment variable {env_name}")
    token = environ.get(env_name, "")
    if (require_login or token) and (not token or PLACEHOLDER_PATTERN.search(token) or not TOKEN_PATTERN.match(token)):
        raise ConfigError(f"telegram.token_env ({env_name})",
                          "missing, a placeholder, or not a bot token like 123456789:AA…; get one from @BotFather")
    base_url = raw.get("base_url") or None
    if base_url is not None and not re.match(r"^https?://", str(base_url)):
        raise ConfigError("telegram.base_url", "must start with http:// or https://")
    username = raw.get("bot_username") or None
    mode = _choice(raw, "telegram.mode", ("polling", "webhook"), "polling")
    webhook = _webhook(raw, environ, require_login) if mode == "webhook" else None
    pacing = _choice(raw, "telegram.pacing", ("telegram", "off"), "telegram")
    return TelegramConfig(token=token, base_url=base_url, base_file_url=raw.get("base_file_url") or None,
                          bot_username=username.lstrip("@") if username else None, mode=mode, webhook=webhook,
                          pacing=pacing)


def _webhook(raw: dict, environ, require_login: bool) -> WebhookConfig:
    """``[telegram] mode = "webhook"``: the public URL, the secret's variable, where to listen."""
    url = raw.get("webhook_url")
    if not isinstance(url, str) or not url.strip():
        raise ConfigError("telegram.webhook_url", "webhook mode needs the public https:// URL Telegram posts to, "
                                                  "e.g. https://weerbaar.example.org/telegram")
    url = url.strip()
    parts = urlsplit(url)
    loopback_http = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if not (parts.scheme == "https" or loopback_http) or not parts.hostname:
        raise ConfigError("telegram.webhook_url", "must be an https:// URL (Telegram refuses plain http; "
                                                  "http:// is accepted only for a loopback test server)")
    if parts.scheme == "https" and (parts.port or 443) not in (443, 80, 88, 8443):
        raise ConfigError("telegram.webhook_url", "Telegram posts only to ports 443, 80, 88 or 8443")
    env_name = str(raw.get("webhook_secret_env", DEFAULT_WEBHOOK_SECRET_ENV))
    if "webhook_secret" in raw:
        raise ConfigError("telegram.webhook_secret", f"never put the secret in the file; set {env_name}")
    secret = environ.get(env_name, "")
    if (require_login or secret) and not WEBHOOK_SECRET_PATTERN.match(secret):
        raise ConfigError(f"telegram.webhook_secret_env ({env_name})",
                          "missing or not 1-256 characters of A-Z a-z 0-9 _ - (Telegram's rule); "
                          "e.g. openssl rand -hex 32")
    host = raw.get("listen_host", "127.0.0.1")
    if not isinstance(host, str) or not host:
        raise ConfigError("telegram.listen_host", "an address to listen on, e.g. 127.0.0.1 or 0.0.0.0")
    port = raw.get("listen_port", 8443)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ConfigError("telegram.listen_port", "a port number (0-65535)")
    path = raw.get("webhook_path") or parts.path or "/"
    if not isinstance(path, str) or not path.startswith("/"):
        raise ConfigError("telegram.webhook_path", "a path starting with /, e.g. /telegram")
    connections = raw.get("max_connections", 40)
    if not isinstance(connections, int) or isinstance(connections, bool) or not 1 <= connections <= 100:
        raise ConfigError("telegram.max_connections", "a whole number from 1 to 100")
    return WebhookConfig(url=url, secret=secret, listen_host=host, listen_port=port, path=path,
                         max_connections=connections)


def _matrix(raw, environ, base_dir: Path, require_login: bool = True) -> MatrixConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("matrix", "must be a table")
    for secret in ("password", "access_token", "pickle_key"):
        if secret in raw:
            raise ConfigError(f"matrix.{secret}", f"never put secrets in the file; name an environment variable "
                                                  f"with matrix.{secret}_env")
    homeserver = _required_str(raw, "matrix", "homeserver").rstrip("/")
    if not re.match(r"^https?://[^/\s]+", homeserver):
        raise ConfigError("matrix.homeserver", "must be a URL like https://matrix.example.org")
    user_id = _required_str(raw, "matrix", "user_id")
    if not MATRIX_USER_PATTERN.match(user_id):
        raise ConfigError("matrix.user_id", f"'{user_id}' is not a Matrix user id like @weerbaar:example.org")
    state_dir = Path(_required_str(raw, "matrix", "state_dir"))
    if not state_dir.is_absolute():
        state_dir = (base_dir / state_dir).resolve()
    if state_dir.exists() and not state_dir.is_dir():
        raise ConfigError("matrix.state_dir", f"{state_dir} exists and is not a directory")
    device_name = str(raw.get("device_name", "Weerbaar")).strip() or "Weerbaar"
    display_name = str(raw.get("display_name", "Weerbaar")).strip() or "Weerbaar"
    avatar = None
    if raw.get("avatar"):
        avatar = Path(str(raw["avatar"]))
        avatar = avatar if avatar.is_absolute() else (base_dir / avatar).resolve()
        if not avatar.is_file():
            raise ConfigError("matrix.avatar", f"{avatar} is not an image file")
    secrets = {}
    for name, default in (("password", DEFAULT_MATRIX_PASSWORD_ENV), ("access_token", DEFAULT_MATRIX_TOKEN_ENV),
                          ("pickle_key", DEFAULT_MATRIX_PICKLE_KEY_ENV)):
        env_name = str(raw.get(f"{name}_env", default))
        value = environ.get(env_name) or None
        if value is not None and PLACEHOLDER_PATTERN.search(value):
            raise ConfigError(f"matrix.{name}_env ({env_name})", "looks like a placeholder")
        secrets[name] = (env_name, value)
    has_session = (state_dir / MATRIX_SESSION_FILE).exists()
    if require_login and not has_session and secrets["password"][1] is None and secrets["access_token"][1] is None:
        raise ConfigError(f"matrix.password_env ({secrets['password'][0]})",
                          f"first start: set this environment variable (or {secrets['access_token'][0]}) "
                          "so the bot can log in; later starts reuse the login kept in matrix.state_dir")
    return MatrixConfig(homeserver=homeserver, user_id=user_id, state_dir=state_dir,
                        password=secrets["password"][1], access_token=secrets["access_token"][1],
                        device_name=device_name, pickle_key=secrets["pickle_key"][1],
                        display_name=display_name, avatar=avatar)


def _park(raw, key: str, official_roles: tuple[str, ...]) -> ParkConfig:
    if not isinstance(raw, dict):
        raise ConfigError(key, "must be a table")
    slug = _required_str(raw, key, "slug")
    if not SLUG_PATTERN.match(slug):
        raise ConfigError(f"{key}.slug", "use 1–31 lower-case letters, digits and '-', starting with a letter or digit")
    prefix = _required_str(raw, key, "prefix")
    if not PREFIX_PATTERN.match(prefix):
        raise ConfigError(f"{key}.prefix", "use 1–8 capital letters, e.g. SP")
    timezone = str(raw.get("timezone", "Europe/Amsterdam"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{key}.timezone", f"unknown time zone '{timezone}'") from None
    categories = raw.get("categories")
    if not isinstance(categories, list) or not categories:
        raise ConfigError(f"{key}.categories", "at least one [[parks.categories]] is needed")
    parsed = tuple(_category(c, f"{key}.categories[{i}]", official_roles) for i, c in enumerate(categories))
    _unique([c.key for c in parsed], f"{key}.categories[].key")
    language = str(raw.get("language", "nl"))
    if language not in ("nl", "en"):
        raise ConfigError(f"{key}.language", "use 'nl' or 'en'")
    return ParkConfig(slug=slug, name=_required_str(raw, key, "name"), prefix=prefix, timezone=timezone,
                      categories=parsed, policy=_policy(raw, key), language=language)


def _category(raw, key: str, official_roles: tuple[str, ...]) -> CategoryConfig:
    if not isinstance(raw, dict):
        raise ConfigError(key, "must be a table")
    roles = raw.get("roles")
    if not isinstance(roles, list) or not roles:
        raise ConfigError(f"{key}.roles", "list at least one official role this category is routed to")
    for index, role in enumerate(roles):
        if role not in official_roles:
            raise ConfigError(f"{key}.roles[{index}]", f"'{role}' is not one of bot.official_roles {list(official_roles)}")
    name_nl = _required_str(raw, key, "name_nl")
    return CategoryConfig(key=_required_str(raw, key, "key"), name_nl=name_nl,
                          name_en=str(raw.get("name_en") or name_nl), roles=tuple(roles))


def _policy(raw: dict, key: str) -> ReminderPolicy:
    reminders = _table(raw, "reminders", f"{key}.reminders")
    hours = _table(raw, "working_hours", f"{key}.working_hours")
    rkey, hkey = f"{key}.reminders", f"{key}.working_hours"
    escalate = reminders.get("escalate_after", 3)
    if not isinstance(escalate, int) or isinstance(escalate, bool) or escalate < 1:
        raise ConfigError(f"{rkey}.escalate_after", "a whole number of reminders, at least 1")
    start, end = _time(hours, f"{hkey}.start", "08:00"), _time(hours, f"{hkey}.end", "18:00")
    if end <= start:
        raise ConfigError(f"{hkey}.end", "must be later than start")
    days = hours.get("days", [1, 2, 3, 4, 5])
    if not isinstance(days, list) or not days or any(d not in range(1, 8) for d in days):
        raise ConfigError(f"{hkey}.days", "a list of ISO weekdays, 1 = Monday … 7 = Sunday")
    policy = ReminderPolicy(
        first_after=_duration(reminders, f"{rkey}.first_after", "2d"),
        repeat_every=_duration(reminders, f"{rkey}.repeat_every", "1d"),
        escalate_after=escalate,
        urgent_first_after=_duration(reminders, f"{rkey}.urgent_first_after", "1h"),
        urgent_repeat_every=_duration(reminders, f"{rkey}.urgent_repeat_every", "1h"),
        urgent_in_working_time=bool(reminders.get("urgent_in_working_time", False)),
        work_start=start, work_end=end, work_days=tuple(sorted(set(days))),
    )
    for name in ("repeat_every", "urgent_repeat_every"):
        if getattr(policy, name) <= timedelta(0):
            raise ConfigError(f"{rkey}.{name}", "must be longer than zero")
    return policy


def _table(raw: dict, name: str, key: str | None = None) -> dict:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(key or name, "must be a table")
    return value


def _list(raw: dict, key: str, default: list) -> list:
    value = raw.get(key.rsplit(".", 1)[-1], default)
    if not isinstance(value, list) or not value:
        raise ConfigError(key, "must be a non-empty list")
    return value


def _required_str(raw: dict, key: str, name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key}.{name}", "is required (a non-empty string)")
    if PLACEHOLDER_PATTERN.search(value):
        raise ConfigError(f"{key}.{name}", f"'{value}' looks like a placeholder")
    return value.strip()


def _duration(raw: dict, key: str, default: str) -> timedelta:
    try:
        return parse_duration(raw.get(key.rsplit(".", 1)[-1], default))
    except (ValueError, TypeError) as error:
        raise ConfigError(key, str(error)) from None


def _time(raw: dict, key: str, default: str) -> time:
    value = raw.get(key.rsplit(".", 1)[-1], default)
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(key, f"'{value}' is not a time like 08:00") from None


def _unique(values: list[str], key: str) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise ConfigError(key, f"'{value}' appears twice")
        seen.add(value)
