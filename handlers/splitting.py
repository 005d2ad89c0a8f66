"""Texts longer than a platform takes are sent as several messages, split at line boundaries.

Telegram refuses a text over 4,096 characters (counted in UTF-16 code units); a Matrix event
must stay under 65,536 bytes with its HTML and plain body both in it, encrypted (base64, a
third more) in an E2EE room: 6,000 characters keep even a text of non-Latin letters under it. Every list the bot
builds (signal cards, audit log, officials, categories, open reports, statistics) can grow
past that, so the outbox splits every text at the point where it is enqueued. A line longer
than the limit on its own is cut at a space, never inside a tag or a character reference,
and tags open at a cut are closed and opened again in the next part.
"""

import re

TEXT_LIMITS = {"telegram": 4096, "matrix": 6000}
DEFAULT_LIMIT = 4096
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>")


def text_limit(platform: str) -> int:
    return TEXT_LIMITS.get(platform, DEFAULT_LIMIT)


def measure(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units); never less than the character count."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit``, cut between lines where at all possible."""
    if measure(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if measure(candidate) <= limit:
            current = candidate
            continue
        if current.strip():
            parts.append(current)
        current = line
        while measure(current) > limit:
            head, current = _cut_line(current, limit)
            parts.append(head)
    if current.strip():
        parts.append(current)
    return [part.strip("\n") for part in parts]


def _cut_line(line: str, limit: int) -> tuple[str, str]:
    """One line too long for a message: (a head that fits, the rest), tags balanced in both."""
    budget = limit - 64  # room for closing tags re-opened around the cut
    end = _safe_cut(line, budget)
    head, rest = line[:end], line[end:].lstrip(" ")
    opened = _open_tags(head)
    closing = "".join(f"</{name}>" for name, _ in reversed(opened))
    reopening = "".join(tag for _, tag in opened)
    return head.rstrip(" ") + closing, reopening + rest


def _safe_cut(line: str, budget: int) -> int:
    """The last space within ``budget`` that is outside a tag and a character reference."""
    end = min(len(line), budget)
    while end > 1 and measure(line[:end]) > budget:
        end -= max(1, (measure(line[:end]) - budget + 1) // 2)
    space = line.rfind(" ", 0, end)
    cut = space if space > end // 2 else end
    while cut > 1 and (_inside(line[:cut], "<", ">") or _inside(line[:cut], "&", ";")):
        cut -= 1
    return cut


def _inside(head: str, opener: str, closer: str) -> bool:
    return head.rfind(opener) > head.rfind(closer)


def _open_tags(fragment: str) -> list[tuple[str, str]]:
    """The tags still open at the end of ``fragment``: (name, the opening tag as written)."""
    stack: list[tuple[str, str]] = []
    for match in _TAG.finditer(fragment):
        closing, name = match.group(1), match.group(2).lower()
        if name == "br":
            continue
        if not closing:
            stack.append((name, match.group(0)))
        elif stack and stack[-1][0] == name:
            stack.pop()
    return stack
