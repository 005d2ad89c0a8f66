"""Failures are logged by type and place, never with their message (it may quote report content)."""

import logging

from bot.safe_logging import log_failure


def test_a_failure_is_logged_without_its_message(caplog):
    log = logging.getLogger("weerbaar.test")
    with caplog.at_level(logging.ERROR):
        content = "[parameters: ('Busjes met drugs bij loods 7',)]"
        try:
            raise ValueError(content)
        except ValueError:
            log_failure(log, "handling update %s failed", 42)
    text = caplog.text
    assert "handling update 42 failed (ValueError)" in text and "test_safe_logging.py" in text
    assert "Busjes" not in text and "loods 7" not in text


def test_json_log_lines_are_one_object_a_line(capsys):
    import json

    from bot.safe_logging import configure_logging

    configure_logging("INFO", "json")
    try:
        logging.getLogger("weerbaar.test").info("sweep: %s reminders", 3)
        line = capsys.readouterr().err.strip().splitlines()[-1]
        entry = json.loads(line)
        assert (entry["level"], entry["logger"], entry["message"]) == ("INFO", "weerbaar.test", "sweep: 3 reminders")
    finally:
        configure_logging("WARNING", "text")


def test_at_debug_the_libraries_that_log_content_stay_at_their_floors():
    """Found by the property tests: at DEBUG, python-telegram-bot logs every API call with names and texts,
    peewee (nio's crypto store) every query with Matrix ids, and nio names people at INFO."""
    from bot.safe_logging import configure_logging

    configure_logging("DEBUG", "text")
    try:
        assert not logging.getLogger("telegram.ext.ExtBot").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("peewee").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("nio.crypto.log").isEnabledFor(logging.INFO)
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
        assert logging.getLogger("bot.telegram_adapter").isEnabledFor(logging.DEBUG)  # the bot's own lines stay
    finally:
        configure_logging("WARNING", "text")
