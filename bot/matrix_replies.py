"""Replies and edits on Matrix: the person's own words, without the quote their client added.

Many clients put the message replied to into ``body`` (the "reply fallback" the spec asked
for until v1.13): ``> <@bot:server> question…`` lines, a blank line, then the answer; and
``<mx-reply>…</mx-reply>`` before the answer in ``formatted_body``. Both are stripped
before anything else sees the text -- only when the event is a reply (it has
``m.in_reply_to``), so a person who starts a report with a quote keeps it.
"""

import re

_MX_REPLY = re.compile(r"^\s*<mx-reply>.*?</mx-reply>", re.DOTALL | re.IGNORECASE)


def relation(content: dict) -> dict:
    relates = content.get("m.relates_to")
    return relates if isinstance(relates, dict) else {}


def replied_to(content: dict) -> str | None:
    """The event id this message replies to, if it is a reply."""
    reply = relation(content).get("m.in_reply_to")
    event_id = reply.get("event_id") if isinstance(reply, dict) else None
    return event_id if isinstance(event_id, str) else None


def edited(content: dict) -> str | None:
    """The event id an edit (``m.replace``) replaces, if this is an edit."""
    relates = relation(content)
    if relates.get("rel_type") != "m.replace":
        return None
    event_id = relates.get("event_id")
    return event_id if isinstance(event_id, str) else ""


def strip_body_fallback(body: str) -> str:
    """``body`` without the leading ``> `` quote lines and the blank line after them."""
    lines = body.split("\n")
    index = 0
    while index < len(lines) and (lines[index].startswith("> ") or lines[index] == ">"):
        index += 1
    if index == 0:
        return body
    if index < len(lines) and not lines[index].strip():
        index += 1
    return "\n".join(lines[index:])


def strip_html_fallback(formatted_body: str) -> str:
    """``formatted_body`` without the ``<mx-reply>`` block."""
    return _MX_REPLY.sub("", formatted_body, count=1)


def own_words(content: dict) -> dict:
    """The content with any reply fallback removed from ``body`` and ``formatted_body``."""
    if replied_to(content) is None:
        return content
    cleaned = dict(content)
    if isinstance(content.get("body"), str):
        cleaned["body"] = strip_body_fallback(content["body"])
    if isinstance(content.get("formatted_body"), str):
        cleaned["formatted_body"] = strip_html_fallback(content["formatted_body"])
    return cleaned
