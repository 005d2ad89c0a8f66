"""The deployment files: the compose config parses, the image builds where Docker can build it."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.config import load_config
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
