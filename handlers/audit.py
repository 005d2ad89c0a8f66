"""The audit trail of admin changes, read back as sentences in the reader's language.

Changes are stored with their before and after values (``AdminChange``); ``/logboek`` turns
each into a sentence ("Beheerder Anna zette de eerste herinnering van 2 werkdagen naar
3 werkdagen — vandaag 10:14") in the reader's language and the park's time zone. Redeemed
invites come from the invites themselves (who redeemed which invite, issued by whom).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from handlers import park_audit, park_choice, report_log
from handlers.context import Context
from handlers.i18n import Markup
from handlers.policy import describe_duration
from handlers.rendering import local_moment, local_time, role_label
from storage.models import AdminChange, Invite, Park, Person

AUDIT_LIMIT = 20
POLICY_DURATIONS = ("first", "repeat", "urgent_first", "urgent_repeat")


def record(ctx: Context, park: Park, action: str, subject: str = "", before=None, after=None) -> None:
    ctx.session.add(AdminChange(park_id=park.id, person_id=ctx.person.id, action=action, subject=subject[:255],
                                before=before, after=after, created_at=ctx.now))


def audit_command(ctx: Context, args: str) -> None:
    """``/logboek``: the park's latest administrative changes."""
    if report_log.wants(args):  # /logboek melding SP-0042: who saw what of one report (issue 13)
        return report_log.show(ctx, args)
    park = park_choice.choose(ctx, park_choice.admin_parks(ctx), "audit", args)
    if park is not None:
        show(ctx, park)


@dataclass(frozen=True)
class Entry:
    at: datetime
    sentence: Markup


def show(ctx: Context, park: Park) -> None:
    entries = sorted(_changes(ctx, park) + _redemptions(ctx, park), key=lambda entry: entry.at, reverse=True)
    if not entries:
        return ctx.reply(ctx.t("audit.none", park=park.name))
    lines = [ctx.t("audit.header", park=park.name)]
    for entry in entries[:AUDIT_LIMIT]:
        lines.append(ctx.t("audit.entry", sentence=entry.sentence, when=when(ctx, park, entry.at)))
    ctx.reply(Markup("\n".join(lines)))
    return None


def when(ctx: Context, park: Park, moment: datetime) -> str:
    """``vandaag 10:14``, ``gisteren 17:02``, or the date and time, in the park's time zone."""
    local, today = local_moment(park, moment), local_moment(park, ctx.now).date()
    if local.date() == today:
        return ctx.t("time.today_at", time=local.strftime("%H:%M"))
    if local.date() == today - timedelta(days=1):
        return ctx.t("time.yesterday_at", time=local.strftime("%H:%M"))
    return local_time(park, moment, ctx.language)


def _changes(ctx: Context, park: Park) -> list[Entry]:
    rows = ctx.session.exec(
        select(AdminChange, Person).join(Person, col(Person.id) == col(AdminChange.person_id))
        .where(AdminChange.park_id == park.id).order_by(col(AdminChange.id).desc()).limit(AUDIT_LIMIT)).all()
    return [Entry(change.created_at, describe(ctx, park, change, person.display_name)) for change, person in rows]


def _redemptions(ctx: Context, park: Park) -> list[Entry]:
    rows = ctx.session.exec(
        select(Invite, Person).join(Person, col(Person.id) == col(Invite.used_by_person_id))
        .where(Invite.park_id == park.id, col(Invite.used_at).is_not(None))
        .order_by(col(Invite.used_at).desc()).limit(AUDIT_LIMIT)).all()
    entries = []
    for invite, person in rows:
        issuer = ctx.session.get(Person, invite.created_by_person_id) if invite.created_by_person_id else None
        entries.append(Entry(invite.used_at, ctx.t(
            "audit.redeemed", name=person.display_name, role=_role(ctx, invite.role),
            issuer=issuer.display_name if issuer else ctx.t("invites.command_line"),
            issued=local_time(park, invite.created_at, ctx.language))))
    return entries


def describe(ctx: Context, park: Park, change: AdminChange, who: str) -> Markup:
    """One change as a sentence; an action this version does not know reads as a plain mention."""
    if (park_level := park_audit.describe(ctx, change, who)) is not None:  # updates, requests, digest, scan
        return park_level
    before, after = change.before or {}, change.after or {}
    action = change.action
    if action.startswith("policy."):
        setting = action.removeprefix("policy.")
        if setting in before and setting in after and ctx.services.texts.has(f"audit.policy.{setting}"):
            return ctx.t(f"audit.policy.{setting}", who=who, before=_policy_value(ctx, setting, before[setting]),
                         after=_policy_value(ctx, setting, after[setting]))
    if action.startswith("category."):
        return _category(ctx, action.removeprefix("category."), change, who, before, after)
    if action == "invite":
        until = after.get("valid_until")
        return ctx.t("audit.invite", who=who, role=_role(ctx, after.get("role") or change.subject),
                     until=local_time(park, datetime.fromisoformat(until), ctx.language) if until else "?")
    if action == "invite.cancel":
        return ctx.t("audit.invite_cancel", who=who, role=_role(ctx, before.get("role") or change.subject))
    if action == "revoke":
        return ctx.t("audit.revoke", who=who, name=before.get("name") or change.subject,
                     role=_role(ctx, before.get("role", "official")))
    if action == "away":
        return ctx.t("audit.away", who=who, name=after.get("name") or change.subject, backup=after.get("backup", "?"))
    if action == "back":
        return ctx.t("audit.back", who=who, name=before.get("name") or change.subject)
    return ctx.t("audit.other", who=who, action=action, subject=change.subject)


def _category(ctx: Context, action: str, change: AdminChange, who: str, before: dict, after: dict) -> Markup:
    name_key = "name_en" if ctx.language == "en" else "name_nl"
    name = after.get(name_key) or before.get(name_key) or change.subject
    values = {"who": who, "name": name}
    if action == "rename":
        values.update(before=before.get(name_key, "?"))
    elif action == "move":
        values.update(position=int(after.get("position", 0)) + 1)
    elif action == "roles":
        values.update(before=_roles(ctx, before.get("roles", "")), after=_roles(ctx, after.get("roles", "")))
    key = f"audit.category.{action}"
    if not ctx.services.texts.has(key):
        return ctx.t("audit.other", who=who, action=change.action, subject=name)
    return ctx.t(key, **values)


def _roles(ctx: Context, joined: str) -> str:
    return ", ".join(_role(ctx, role) for role in joined.split(",") if role)


def _role(ctx: Context, role: str) -> str:
    return role_label(ctx.services.texts, ctx.language, role)


def _policy_value(ctx: Context, setting: str, value) -> str:
    if setting in POLICY_DURATIONS and isinstance(value, int):
        return describe_duration(ctx.services.texts, ctx.language, timedelta(seconds=value),
                                 working=not setting.startswith("urgent"))
    if setting == "days":
        from babel.dates import get_day_names

        names = get_day_names("abbreviated", locale=ctx.language)
        return ", ".join(names[int(day) - 1] for day in str(value).split(",") if day.strip().isdigit())
    return str(value)
