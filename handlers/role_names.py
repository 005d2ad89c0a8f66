"""Roles as admins type them: the config key (``police``) or its name in either language (``politie``)."""

import re

from handlers.i18n import LANGUAGES, Translator
from handlers.rendering import role_label
from storage.queries import ADMIN


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def parse_role(texts: Translator, text: str, allowed: tuple[str, ...]) -> str | None:
    """The role key ``text`` names, if exactly one of ``allowed`` fits: its key, its full label
    (``politie (wijkagent)``) or the label's first word (``politie``), in Dutch or English."""
    wanted = _words(text)
    if not wanted:
        return None
    matches = set()
    for role in allowed:
        names = {_words(role), _words(role.replace("_", " "))}
        for language in LANGUAGES:
            label = _words(role_label(texts, language, role))
            names |= {label, label.split(" ")[0] if label else ""}
        if wanted in names:
            matches.add(role)
    return matches.pop() if len(matches) == 1 else None


def parse_roles(texts: Translator, text: str, allowed: tuple[str, ...]) -> list[str] | None:
    """``politie, gemeente`` → [police, municipality]; None when any part is not a role."""
    parts = [part for part in re.split(r"[,;]+", text) if part.strip()]
    if len(parts) == 1 and " " in parts[0].strip() and parse_role(texts, parts[0], allowed) is None:
        parts = parts[0].split()  # ``police municipality``
    roles = [parse_role(texts, part, allowed) for part in parts]
    if not roles or any(role is None for role in roles):
        return None
    return list(dict.fromkeys(roles))


def invitable(allowed: tuple[str, ...]) -> tuple[str, ...]:
    return (ADMIN, *allowed)
