"""Logging failures without their messages: an exception's text can carry report content
(a database error quotes its parameters), so only its type and where it happened are logged."""

import json
import logging
import sys
import traceback
from collections.abc import Callable
from datetime import datetime, timezone

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_failure(logger: logging.Logger, what: str, *args: object) -> None:
    """Call inside ``except``: logs ``what``, the exception type and its stack, never its message."""
    error = sys.exc_info()[1]
    frames = traceback.extract_tb(error.__traceback__) if error is not None else []
    where = "\n".join(f"  {frame.filename}:{frame.lineno} in {frame.name}" for frame in frames)
    logger.error(what + " (%s)\n%s", *args, type(error).__name__ if error else "?", where)


class JsonLinesFormatter(logging.Formatter):
    """One JSON object a line (``bot.log_format = "json"``), for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        return json.dumps(entry, ensure_ascii=False)


#: Libraries whose detailed lines carry content: python-telegram-bot logs every Bot API call with its
#: parameters and answer at DEBUG (messages, names, user ids), the HTTP clients their URLs (the token),
#: peewee (matrix-nio's crypto store) every query with its values (Matrix ids of the people), and
#: matrix-nio itself names the people whose keys and sessions it handles at INFO.
#: They never log below these levels, whatever ``bot.log_level`` says.
LIBRARY_FLOORS = {"telegram": logging.INFO, "httpx": logging.WARNING, "httpcore": logging.INFO,
                  "nio": logging.WARNING, "peewee": logging.INFO, "aiohttp.client": logging.INFO}


def keep_content_out_of_library_logs() -> Callable[[], None]:
    """Raise the chatty libraries' loggers to their floors; returns what undoes it (for tests)."""
    before = {name: logging.getLogger(name).level for name in LIBRARY_FLOORS}
    for name, floor in LIBRARY_FLOORS.items():
        logger = logging.getLogger(name)
        logger.setLevel(max(floor, logger.level))

    def restore() -> None:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)
    return restore


def configure_logging(level: str, log_format: str = "text") -> None:
    """The process's logging: plain lines or JSON lines, at ``level``; never content from libraries."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLinesFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    keep_content_out_of_library_logs()
