"""Numbers people type or buttons carry, read safely: a number out of range is an unknown one."""

# Database ids are 32-bit integers on PostgreSQL; a longer number cannot name any row, and
# asking the database for it would overflow (SQLite refuses more than 64 bits outright).
MAX_ID = 2**31 - 1
NO_ROW = 0  # an id no row has: out-of-range numbers become this, so they read as "unknown"


def as_id(text: str | None) -> int | None:
    """``"12"`` or ``"#12"`` → 12; a number no row can have → ``NO_ROW``; not a number → None."""
    raw = (text or "").strip().lstrip("#")
    if not raw.isascii() or not raw.isdigit():
        return None
    if len(raw) > len(str(MAX_ID)) or int(raw) > MAX_ID:
        return NO_ROW
    return int(raw)
