"""The command menus a platform shows, per scope, with Dutch names and English aliases."""

# (Dutch command, English alias, description key); the English menu shows the alias.
PRIVATE = [
    ("melden", "report", "menu.report"),
    ("mijnmeldingen", "myreports", "menu.myreports"),
    ("signalen", "signals", "menu.signals"),
    ("open", "open", "menu.open"),
    ("stop", "stop", "menu.stop"),
    ("taal", "language", "menu.language"),
    ("mijngegevens", "mydata", "menu.mydata"),
    ("beheer", "admin", "menu.admin"),
]
GROUP = [("melden", "report", "menu.report_group")]
GROUP_ADMINS = GROUP + [("koppel", "link", "menu.link")]
MENUS = {"private": PRIVATE, "group": GROUP, "group_admins": GROUP_ADMINS}


def menu(scope: str, language: str) -> list[tuple[str, str]]:
    """(command, description key) pairs for a scope in a language."""
    return [(english if language == "en" else dutch, key) for dutch, english, key in MENUS[scope]]
