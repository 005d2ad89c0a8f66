"""Logging failures without their messages: an exception's text can carry report content
(a database error quotes its parameters), so only its type and where it happened are logged."""

import json
import logging
import sys
import traceback
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


def configure_logging(level: str, log_format: str = "text") -> None:
    """The process's logging: plain lines or JSON lines, at ``level``; never the HTTP client's URLs."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLinesFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token in the URL
