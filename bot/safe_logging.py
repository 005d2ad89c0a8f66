"""Logging failures without their messages: an exception's text can carry report content
(a database error quotes its parameters), so only its type and where it happened are logged."""

import logging
import sys
import traceback


def log_failure(logger: logging.Logger, what: str, *args: object) -> None:
    """Call inside ``except``: logs ``what``, the exception type and its stack, never its message."""
    error = sys.exc_info()[1]
    frames = traceback.extract_tb(error.__traceback__) if error is not None else []
    where = "\n".join(f"  {frame.filename}:{frame.lineno} in {frame.name}" for frame in frames)
    logger.error(what + " (%s)\n%s", *args, type(error).__name__ if error else "?", where)
