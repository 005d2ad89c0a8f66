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
