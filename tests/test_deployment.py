"""The deployment files: the compose config parses, the image builds where Docker can build it."""

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from bot.config import load_config, parse_config
from tests.conftest import TEST_TOKEN

ROOT = Path(__file__).resolve().parent.parent


def test_compose_config_is_a_valid_weerbaar_config():
    config = load_config(ROOT / "deploy" / "config.compose.toml", environ={
        "WEERBAAR_TELEGRAM_TOKEN": TEST_TOKEN,
        "WEERBAAR_DATABASE_URL": "postgresql+psycopg://weerbaar:secret@db/weerbaar"})
    assert config.database_url == "postgresql+psycopg://weerbaar:secret@db/weerbaar"
    assert (config.monitoring.host, config.monitoring.port) == ("0.0.0.0", 9464)
    assert config.log_format == "json"


def test_compose_file_wires_the_bot_to_postgres_with_volumes_and_secrets():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    bot = compose["services"]["bot"]
    assert bot["env_file"] == ".env" and "db" in bot["depends_on"]
    assert "matrix-state:/var/lib/weerbaar/matrix" in bot["volumes"]
    assert all(port.startswith("127.0.0.1:") for port in bot["ports"])
    assert set(compose["volumes"]) == {"db-data", "matrix-state"}
    env_example = (ROOT / ".env.example").read_text()
    for name in ("POSTGRES_PASSWORD", "WEERBAAR_TELEGRAM_TOKEN", "WEERBAAR_MATRIX_PICKLE_KEY"):
        assert f"{name}=" in env_example


def _docker_cannot_build() -> str | None:
    if shutil.which("docker") is None:
        return "docker is not installed"
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return "the Docker daemon is not running"
    if subprocess.run(["docker", "image", "inspect", "python:3.11-slim"], capture_output=True).returncode != 0:
        return "the base image python:3.11-slim is not available offline (no image registry on this machine)"
    return None


def test_the_image_builds_and_runs_as_non_root():
    reason = _docker_cannot_build()
    if reason:
        pytest.skip(reason)
    subprocess.run(["docker", "build", "-t", "weerbaar:test", str(ROOT)], check=True, timeout=900)
    user = subprocess.run(["docker", "run", "--rm", "--entrypoint", "id", "weerbaar:test", "-u"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert user != "0"
    usage = subprocess.run(["docker", "run", "--rm", "weerbaar:test", "--help"], capture_output=True, text=True)
    assert "weerbaar" in usage.stdout


def test_the_webhook_variant_of_the_compose_config_parses():
    text = (ROOT / "deploy" / "config.compose.toml").read_text()
    for key in ("mode", "webhook_url", "listen_host", "listen_port"):
        text = text.replace(f"# {key} = ", f"{key} = ")
    config = parse_config(tomllib.loads(text), environ={
        "WEERBAAR_TELEGRAM_TOKEN": TEST_TOKEN, "WEERBAAR_TELEGRAM_WEBHOOK_SECRET": "0123abcdef",
        "WEERBAAR_DATABASE_URL": "postgresql+psycopg://weerbaar:secret@db/weerbaar"})
    hook = config.telegram.webhook
    assert config.telegram.mode == "webhook"
    assert (hook.url, hook.path, hook.listen_host, hook.listen_port) == (
        "https://weerbaar.example.org/telegram", "/telegram", "0.0.0.0", 8443)


def test_two_instances_behind_a_tls_proxy_share_the_database_and_the_matrix_state():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.instances.yaml").read_text())
    services = compose["services"]
    bots = [services["bot-a"], services["bot-b"]]
    for bot in bots:
        assert "matrix-state:/var/lib/weerbaar/matrix" in bot["volumes"]  # the standby takes over from it
        assert bot["environment"]["WEERBAAR_DATABASE_URL"].endswith("@db/weerbaar")
        assert all(port.startswith("127.0.0.1:") for port in bot["ports"])
    assert services["proxy"]["ports"] == ["80:80", "443:443"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy bot-a:8443 bot-b:8443" in caddyfile and "health_uri /readyz" in caddyfile
    env_example = (ROOT / ".env.example").read_text()
    assert "WEERBAAR_TELEGRAM_WEBHOOK_SECRET=" in env_example and "WEERBAAR_PUBLIC_HOST=" in env_example
