"""The audit log's sentences for park-level changes (issue 12): updates, requests, the digest, the scan.

``handlers.audit`` asks here first; None means "not a park-level change". The actors of updates
and requests are officials as often as admins, so these sentences name the person without
calling them an admin.
"""

from handlers.context import Context
from handlers.i18n import Markup
from storage.models import AdminChange

PARK_LEVEL = ("update.", "request.", "digest.", "scan.")


def describe(ctx: Context, change: AdminChange, who: str) -> Markup | None:
    action = change.action
    if not action.startswith(PARK_LEVEL) or not ctx.services.texts.has(f"audit.{action}"):
        return None
    before, after = change.before or {}, change.after or {}
    values = {"who": who, "subject": change.subject}
    if action == "update.sent":
        values.update(groups=after.get("groups", 0), members=after.get("members", 0))
    elif action == "request.closed":
        values.update(helpers=after.get("helpers", 0))
    elif action == "scan.opened":
        values.update(invited=after.get("invited", 0))
    elif action == "digest.schedule":
        values.update(before=_schedule(ctx, before), after=_schedule(ctx, after))
    elif action == "scan.question":
        values.update(change=_question_change(ctx, after))
    return ctx.t(f"audit.{action}", **values)


def _schedule(ctx: Context, schedule: dict) -> str:
    if not schedule.get("enabled", True):
        return str(ctx.t("audit.digest.off"))
    day = ctx.t("digest.first_working_day") if not schedule.get("day") else ctx.t("digest.day_of_month",
                                                                                  day=schedule["day"])
    return str(ctx.t("audit.digest.when", day=day, at=schedule.get("at", "?")))


def _question_change(ctx: Context, after: dict | None) -> str:
    if not after:
        return str(ctx.t("audit.scan.question_default"))
    if "enabled" in after and len(after) == 1:
        return str(ctx.t("audit.scan.question_on" if after["enabled"] else "audit.scan.question_off"))
    return str(ctx.t("audit.scan.question_text"))
