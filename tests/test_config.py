"""config.toml: the example works, and every mistake names its full key."""

import tomllib
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config

EXAMPLE = Path(__file__).parent.parent / "config.example.toml"
GOOD_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"


def example() -> dict:
    return tomllib.loads(EXAMPLE.read_text())


def test_the_example_config_loads_with_a_token_from_the_environment(tmp_path):
    config = load_config(EXAMPLE, environ={"WEERBAAR_TELEGRAM_TOKEN": GOOD_TOKEN})
    assert config.telegram.token == GOOD_TOKEN
    park = config.parks[0]
    assert (park.slug, park.prefix, park.timezone) == ("spaanse-polder", "SP", "Europe/Amsterdam")
    assert park.policy.first_after.total_seconds() == 2 * 86400
    assert config.database_url.startswith("sqlite:////") and config.database_url.endswith("data/weerbaar.db")


@pytest.mark.parametrize("token", ["", "CHANGE-ME", "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11", "<your token>", "12:short"])
def test_placeholder_or_malformed_tokens_are_refused(token):
    with pytest.raises(ConfigError) as error:
        parse_config(example(), environ={"WEERBAAR_TELEGRAM_TOKEN": token})
    assert "telegram.token_env (WEERBAAR_TELEGRAM_TOKEN)" in str(error.value)


def test_a_token_written_in_the_file_is_refused():
    raw = example()
    raw["telegram"]["token"] = GOOD_TOKEN
    with pytest.raises(ConfigError, match="'telegram.token'"):
        parse_config(raw, environ={"WEERBAAR_TELEGRAM_TOKEN": GOOD_TOKEN})


@pytest.mark.parametrize(("path", "value", "key"), [
    (("parks", 0, "reminders", "first_after"), "2 days", "parks[0].reminders.first_after"),
    (("parks", 0, "reminders", "escalate_after"), 0, "parks[0].reminders.escalate_after"),
    (("parks", 0, "working_hours", "end"), "07:00", "parks[0].working_hours.end"),
    (("parks", 0, "working_hours", "days"), [0, 8], "parks[0].working_hours.days"),
    (("parks", 0, "timezone"), "Europe/Zaandam", "parks[0].timezone"),
    (("parks", 0, "slug"), "Spaanse Polder", "parks[0].slug"),
    (("parks", 0, "prefix"), "sp", "parks[0].prefix"),
    (("parks", 0, "categories", 1, "roles"), ["sheriff"], "parks[0].categories[1].roles[0]"),
    (("bot", "draft_idle_timeout"), "soon", "bot.draft_idle_timeout"),
    (("telegram", "base_url"), "ftp://x", "telegram.base_url"),
    (("telegram", "pacing"), "none", "telegram.pacing"),
])
def test_mistakes_name_the_full_dotted_key(path, value, key):
    raw = example()
    target = raw
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(ConfigError) as error:
        parse_config(raw, environ={"WEERBAAR_TELEGRAM_TOKEN": GOOD_TOKEN})
    assert f"'{key}'" in str(error.value)


def test_two_parks_may_not_share_a_prefix():
    raw = example()
    raw["parks"].append(dict(raw["parks"][0], slug="tweede"))
    with pytest.raises(ConfigError, match=r"parks\[\]\.prefix"):
        parse_config(raw, environ={"WEERBAAR_TELEGRAM_TOKEN": GOOD_TOKEN})


def test_telegram_may_be_left_out():
    raw = example()
    del raw["telegram"]
    assert parse_config(raw, environ={}).telegram is None


def test_sends_keep_to_telegrams_limits_unless_the_file_turns_pacing_off():
    raw = example()
    assert parse_config(raw, environ={"WEERBAAR_TELEGRAM_TOKEN": GOOD_TOKEN}).telegram.pacing == "telegram"
    raw["telegram"]["pacing"] = "off"  # only for a Bot API without flood control (the benchmark's fake)
    assert parse_config(raw, environ={"WEERBAAR_TELEGRAM_TOKEN": GOOD_TOKEN}).telegram.pacing == "off"


def test_postgresql_database_threads_are_a_setting_and_sqlite_keeps_its_one():
    raw = example()
    postgres = {"WEERBAAR_TELEGRAM_TOKEN": GOOD_TOKEN, "WEERBAAR_DATABASE_URL": "postgresql+psycopg://bot@db/weerbaar"}
    assert parse_config(raw, environ=postgres).database_threads is None  # the store's default
    raw["database"]["threads"] = 6
    assert parse_config(raw, environ=postgres).database_threads == 6
    for wrong in (0, 9, "4", True):
        raw["database"]["threads"] = wrong
        with pytest.raises(ConfigError, match="'database.threads'"):
            parse_config(raw, environ=postgres)
    raw["database"]["threads"] = 2
    with pytest.raises(ConfigError, match="only for PostgreSQL"):
        parse_config(raw, environ={"WEERBAAR_TELEGRAM_TOKEN": GOOD_TOKEN})
