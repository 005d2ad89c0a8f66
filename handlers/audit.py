"""The audit trail of admin changes."""

from sqlmodel import col, select

from handlers.context import Context
from handlers.i18n import Markup
from handlers.rendering import local_time
from storage.models import AdminChange, Park, Person

AUDIT_LIMIT = 20


def record(ctx: Context, park: Park, action: str, subject: str = "", before=None, after=None) -> None:
    ctx.session.add(AdminChange(park_id=park.id, person_id=ctx.person.id, action=action, subject=subject[:255],
                                before=before, after=after, created_at=ctx.now))


def show(ctx: Context, park: Park) -> None:
    rows = ctx.session.exec(
        select(AdminChange, Person).join(Person, col(Person.id) == col(AdminChange.person_id))
        .where(AdminChange.park_id == park.id).order_by(col(AdminChange.id).desc()).limit(AUDIT_LIMIT)).all()
    if not rows:
        return ctx.reply(ctx.t("audit.none", park=park.name))
    lines = [ctx.t("audit.header", park=park.name)]
    for change, person in rows:
        lines.append(ctx.t("audit.line", when=local_time(park, change.created_at, ctx.language), who=person.display_name,
                           action=change.action, subject=change.subject, change=_change(change)))
    ctx.reply(Markup("\n".join(lines)))
    return None


def _change(change: AdminChange) -> str:
    if change.before is None and change.after is None:
        return ""
    return f"{_compact(change.before)} → {_compact(change.after)}"


def _compact(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{key}={item}" for key, item in value.items())
    return str(value)
