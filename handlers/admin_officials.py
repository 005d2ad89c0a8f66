"""Admins manage the park's verified people from the chat: invite, list, revoke, away and back.

People are addressed by the number of their role as ``/instanties`` shows it (``#12``);
every action checks that the role belongs to a park the acting person administers.
"""

from sqlmodel import col, func, select

from handlers import audit, park_choice
from handlers.context import Context
from handlers.delivery import alert_uncovered_roles, deliver_to
from handlers.durations import parse_duration
from handlers.i18n import Markup
from handlers.invites import InviteError, create_invite
from handlers.numbers import as_id
from handlers.rendering import local_time, report_number, role_label
from storage.models import Park, Person, Report, ReportEvent, ReportRecipient, Role
from storage.queries import ADMIN, add_recipient, has_role, people_with_roles, routed_officials

INVITE_MAX_VALIDITY_DAYS = 90


def invite(ctx: Context, args: str) -> None:
    """``/uitnodigen ROLE [valid for]``: a single-use code and link for an official or admin."""
    parts = args.split()
    if not parts:
        return ctx.reply(ctx.t("admin.invite_usage", roles=", ".join((ADMIN, *ctx.services.settings.official_roles))))
    park = park_choice.choose(ctx, park_choice.admin_parks(ctx), "invite", args)
    if park is None:
        return _not_admin_unless_asked(ctx)
    role = parts[0].lower()
    try:
        valid_for = parse_duration(parts[1]) if len(parts) > 1 else ctx.services.settings.invite_valid_for
    except ValueError:
        return ctx.reply(ctx.t("admin.bad_duration", value=parts[1]))
    if valid_for.total_seconds() <= 0 or valid_for.days > INVITE_MAX_VALIDITY_DAYS:
        return ctx.reply(ctx.t("admin.bad_duration", value=parts[1]))
    try:
        issued = create_invite(ctx.session, park_slug=park.slug, role=role,
                               allowed_roles=ctx.services.settings.official_roles, now=ctx.now, valid_for=valid_for)
    except InviteError:
        return ctx.reply(ctx.t("admin.invite_usage", roles=", ".join((ADMIN, *ctx.services.settings.official_roles))))
    audit.record(ctx, park, "invite", role, after={"valid_until": issued.expires_at.isoformat(timespec="minutes")})
    port = ctx.services.platforms.get(ctx.chat.platform)
    link = port.private_chat_link(issued.code) if port else None
    ctx.reply(ctx.t("admin.invite_issued", role=role_label(ctx.services.texts, ctx.language, role), park=park.name,
                    code=issued.code, until=local_time(park, issued.expires_at, ctx.language)))
    if link:
        ctx.reply(ctx.t("admin.invite_link", link=link))
    return None


def list_people(ctx: Context, args: str) -> None:
    """``/instanties``: who is verified, on which platform, since when, last active."""
    park = park_choice.choose(ctx, park_choice.admin_parks(ctx), "officials", args)
    if park is None:
        return _not_admin_unless_asked(ctx)
    rows = ctx.session.exec(
        select(Role, Person).join(Person, col(Person.id) == col(Role.person_id))
        .where(Role.park_id == park.id, col(Role.revoked_at).is_(None)).order_by(col(Role.role), col(Role.id))).all()
    lines = [ctx.t("admin.people_header", park=park.name)]
    for role, person in rows:
        last = ctx.session.exec(select(func.max(ReportEvent.created_at)).join(
            Report, col(Report.id) == col(ReportEvent.report_id)).where(
            ReportEvent.person_id == person.id, Report.park_id == park.id)).one()
        backup = ctx.session.get(Person, role.backup_person_id) if role.away_since and role.backup_person_id else None
        lines.append(ctx.t(
            "admin.people_line", id=role.id, name=person.display_name, role=role_label(ctx.services.texts, ctx.language,
                                                                                    role.role),
            platform=person.platform, since=local_time(park, role.verified_at, ctx.language),
            last=local_time(park, last, ctx.language) if last else ctx.t("admin.never")))
        if backup is not None:
            lines.append(ctx.t("admin.people_away", backup=backup.display_name))
    ctx.reply(Markup("\n".join(lines)))
    return None


def revoke(ctx: Context, args: str) -> None:
    """``/intrekken #12``: the role ends; its open reports are re-routed and their lead released."""
    named = _named_role(ctx, args)
    if named is None:
        return None
    role, park, person = named
    if role.role == ADMIN and len(people_with_roles(ctx.session, park.id, [ADMIN])) <= 1:
        return ctx.reply(ctx.t("admin.last_admin", park=park.name))
    role.revoked_at = ctx.now
    ctx.session.add(role)
    ctx.session.flush()
    audit.record(ctx, park, "revoke", f"#{role.id} {person.display_name}", before={"role": role.role})
    ctx.send_to(person, ctx.t_for(person, "admin.revoked_you", role=role_label(
        ctx.services.texts, ctx.services.texts.language_for(person.language), role.role), park=park.name))
    if role.role != ADMIN:
        _reroute_after_revoke(ctx, park, person)
    ctx.reply(ctx.t("admin.revoked", name=person.display_name, park=park.name))
    return None


def _reroute_after_revoke(ctx: Context, park: Park, person: Person) -> None:
    """Release their lead and give their open reports to the officials still routed."""
    reports = ctx.session.exec(
        select(Report).join(ReportRecipient, col(ReportRecipient.report_id) == col(Report.id))
        .where(ReportRecipient.person_id == person.id, Report.park_id == park.id, Report.status == "open")).all()
    for report in reports:
        number = report_number(park, report)
        released = report.lead_person_id == person.id
        if released:
            report.lead_person_id = None
            ctx.session.add(report)
        others = [p for p in routed_officials(ctx.session, park.id, report.roles) if p.id != person.id]
        for official in others:
            if add_recipient(ctx.session, report.id, official.id):
                deliver_to(ctx, official, park, report)
            elif released:
                ctx.send_to(official, ctx.t_for(official, "admin.lead_released", number=number,
                                                name=person.display_name), purpose="notice", report_id=report.id)
        uncovered = [role for role in report.roles if not people_with_roles(ctx.session, park.id, [role])]
        if uncovered:
            covered = [role for role in report.roles if role not in uncovered]
            alert_uncovered_roles(ctx, park, report, uncovered, covered, revoked=person)


def away(ctx: Context, args: str) -> None:
    """``/afwezig #12 #13``: #13 receives #12's reports and reminders until ``/terug #12``."""
    parts = args.split()
    if len(parts) != 2:
        return ctx.reply(ctx.t("admin.away_usage"))
    named = _named_role(ctx, parts[0])
    backup_named = _named_role(ctx, parts[1]) if named else None
    if backup_named is None:
        return None
    (role, park, person), (backup_role, _, backup) = named, backup_named
    if (role.role == ADMIN or backup_role.role == ADMIN or backup_role.park_id != role.park_id
            or backup_role.person_id == role.person_id or backup_role.away_since is not None):
        return ctx.reply(ctx.t("admin.away_usage"))
    if not has_role(ctx.session, backup.id, park.id, [role.role]):
        # A stand-in acts on what it is sent, so it must hold the absent official's role here.
        return ctx.reply(ctx.t("admin.away_backup_other_role", name=person.display_name, backup=backup.display_name,
                               role=role_label(ctx.services.texts, ctx.language, role.role)))
    role.away_since, role.backup_person_id = ctx.now, backup.id
    ctx.session.add(role)
    audit.record(ctx, park, "away", f"#{role.id} {person.display_name}", after={"backup": backup.display_name})
    ctx.send_to(backup, ctx.t_for(backup, "admin.you_are_backup", name=person.display_name, park=park.name))
    ctx.reply(ctx.t("admin.away_set", name=person.display_name, backup=backup.display_name))
    return None


def back(ctx: Context, args: str) -> None:
    """``/terug #12``: the official receives their own reports and reminders again."""
    named = _named_role(ctx, args)
    if named is None:
        return None
    role, park, person = named
    if role.away_since is None:
        return ctx.reply(ctx.t("admin.not_away", name=person.display_name))
    backup = ctx.session.get(Person, role.backup_person_id) if role.backup_person_id else None
    role.away_since, role.backup_person_id = None, None
    ctx.session.add(role)
    audit.record(ctx, park, "back", f"#{role.id} {person.display_name}",
                 before={"backup": backup.display_name if backup else None})
    ctx.reply(ctx.t("admin.back_set", name=person.display_name))
    return None


def _named_role(ctx: Context, text: str) -> tuple[Role, Park, Person] | None:
    """The role ``#12`` names, with its park and person, if it is active and in a park this person
    administers; otherwise say so and return None."""
    ident = as_id(text)
    role = ctx.session.get(Role, ident) if ident is not None else None
    admin_of = {park.id for park in park_choice.admin_parks(ctx)}
    if not admin_of:
        ctx.reply(ctx.t("admin.not_admin"))
        return None
    if role is None or role.revoked_at is not None or role.park_id not in admin_of:
        ctx.reply(ctx.t("admin.unknown_person", value=text.strip() or "?"))
        return None
    return role, ctx.session.get(Park, role.park_id), ctx.session.get(Person, role.person_id)


def _not_admin_unless_asked(ctx: Context) -> None:
    """``choose`` returned nothing: either it asked which park, or there is none."""
    if not park_choice.admin_parks(ctx):
        ctx.reply(ctx.t("admin.not_admin"))

