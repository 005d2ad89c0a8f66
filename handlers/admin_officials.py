"""Admins manage the park's verified people from the chat: invite, list, revoke, away and back.

People are addressed by their number in the park as ``/instanties`` shows it (``3`` or ``#3``;
one person with two roles is one entry); ``/instanties`` also offers buttons for every action.
Every action checks that the role belongs to a park the acting person administers.
"""

from sqlmodel import col, func, select

from handlers import audit, park_choice, park_numbers
from handlers.buttons import BackupChoice, RoleAction
from handlers.context import Context
from handlers.delivery import alert_uncovered_roles, deliver_to
from handlers.durations import parse_duration
from handlers.i18n import Markup
from handlers.invites import InviteError, create_invite
from handlers.messages import Button
from handlers.rendering import local_time, report_number, role_label
from handlers.role_names import invitable, parse_role
from storage.models import Park, Person, Report, ReportEvent, ReportRecipient, Role
from storage.queries import ADMIN, add_recipient, has_role, people_with_roles, routed_officials

INVITE_MAX_VALIDITY_DAYS = 90
#: Buttons in one listing (Telegram allows 100 in a message; the rest of an entry is typed).
MAX_ENTRY_BUTTONS = 90
#: Entry buttons name their entry in short: on Matrix they repeat under the listing as numbered choices,
#: and an encrypted event must stay under 64 KiB.
ENTRY_LABEL_LENGTH = 28


def invite(ctx: Context, args: str) -> None:
    """``/uitnodigen ROLE [valid for]``: a single-use code and link for an official or admin."""
    parts = args.split()
    allowed = invitable(ctx.services.settings.official_roles)
    usage = ctx.t("admin.invite_usage", roles=", ".join(role_label(ctx.services.texts, ctx.language, role)
                                                         for role in allowed))
    if not parts:
        return ctx.reply(usage)
    park = park_choice.choose(ctx, park_choice.admin_parks(ctx), "invite", args)
    if park is None:
        return None
    role = parse_role(ctx.services.texts, parts[0], allowed)
    if role is None and len(parts) > 1:  # a role of two words: ``/uitnodigen fire brigade 3d``
        role = parse_role(ctx.services.texts, " ".join(parts[:2]), allowed)
        parts = [" ".join(parts[:2]), *parts[2:]] if role else parts
    if role is None:
        return ctx.reply(usage)
    try:
        valid_for = parse_duration(parts[1]) if len(parts) > 1 else ctx.services.settings.invite_valid_for
    except ValueError:
        return ctx.reply(ctx.t("admin.bad_duration", value=parts[1]))
    if valid_for.total_seconds() <= 0 or valid_for.days > INVITE_MAX_VALIDITY_DAYS:
        return ctx.reply(ctx.t("admin.bad_duration", value=parts[1]))
    try:
        issued = create_invite(ctx.session, park_slug=park.slug, role=role, created_by=ctx.person,
                               allowed_roles=ctx.services.settings.official_roles, now=ctx.now, valid_for=valid_for)
    except InviteError:
        return ctx.reply(usage)
    audit.record(ctx, park, "invite", role, after={"role": role, "invite_id": issued.invite_id,
                                                    "valid_until": issued.expires_at.isoformat(timespec="minutes")})
    port = ctx.services.platforms.get(ctx.chat.platform)
    link = port.private_chat_link(issued.code) if port else None
    ctx.reply(ctx.t("admin.invite_issued", role=role_label(ctx.services.texts, ctx.language, role), park=park.name,
                    code=issued.code, until=local_time(park, issued.expires_at, ctx.language)))
    if link:
        ctx.reply(ctx.t("admin.invite_link", link=link))
    return None


# ---- the list ------------------------------------------------------------------------------------

def list_people(ctx: Context, args: str) -> None:
    """``/instanties``: who is verified, on which platform, since when, last active; with buttons."""
    park = park_choice.choose(ctx, park_choice.admin_parks(ctx), "officials", args)
    if park is None:
        return None
    numbers = park_numbers.people(ctx.session, park.id)
    lines, keyboard = [ctx.t("admin.people_header", park=park.name)], []
    for person, roles in _entries(ctx, park):
        number = numbers[person.id]
        last = ctx.session.exec(select(func.max(ReportEvent.created_at)).join(
            Report, col(Report.id) == col(ReportEvent.report_id)).where(
            ReportEvent.person_id == person.id, Report.park_id == park.id)).one()
        lines.append(ctx.t(
            "admin.people_line", id=number, name=person.display_name,
            role=", ".join(role_label(ctx.services.texts, ctx.language, role.role) for role in roles),
            platform=person.platform, since=local_time(park, min(role.verified_at for role in roles), ctx.language),
            last=local_time(park, last, ctx.language) if last else ctx.t("admin.never")))
        for role in roles:
            backup = ctx.session.get(Person, role.backup_person_id) if role.away_since and role.backup_person_id \
                else None
            if backup is not None:
                lines.append(ctx.t("admin.people_away", backup=backup.display_name))
        keyboard.append(Button(f"{number}. {person.display_name}", data=RoleAction(roles[0].id, "manage")))
    keyboard_rows = entry_keyboard(ctx, keyboard, lines)
    ctx.reply(Markup("\n".join(lines)), keyboard_rows)
    return None


def _entries(ctx: Context, park: Park) -> list[tuple[Person, list[Role]]]:
    """Each person with an active role in the park once, with their roles, in number order."""
    rows = ctx.session.exec(
        select(Role, Person).join(Person, col(Person.id) == col(Role.person_id))
        .where(Role.park_id == park.id, col(Role.revoked_at).is_(None)).order_by(col(Role.id))).all()
    entries: dict[int, tuple[Person, list[Role]]] = {}
    for role, person in rows:
        entries.setdefault(person.id, (person, []))[1].append(role)
    numbers = park_numbers.people(ctx.session, park.id)
    return sorted(entries.values(), key=lambda entry: numbers[entry[0].id])


def entry_keyboard(ctx: Context, buttons: list[Button], lines: list) -> list[list[Button]]:
    """One button per entry of a listing, two to a row; within what one message may carry.

    Entries beyond ``MAX_ENTRY_BUTTONS`` are managed by typing their number (``lines`` says so).
    """
    if len(buttons) > MAX_ENTRY_BUTTONS:
        lines.append(ctx.t("admin.more_by_number", shown=MAX_ENTRY_BUTTONS))
    shown = [Button(_shorten(button.label, ENTRY_LABEL_LENGTH), data=button.data)
             for button in buttons[:MAX_ENTRY_BUTTONS]]
    return [shown[index:index + 2] for index in range(0, len(shown), 2)]


def _shorten(label: str, length: int) -> str:
    """A button label that names the entry without repeating all of it (the listing has it whole)."""
    return label if len(label) <= length else label[:length - 1].rstrip() + "…"


def _person_menu(ctx: Context, park: Park, person: Person) -> None:
    """The actions for one person: per role revoke, and away or back."""
    roles = list(ctx.session.exec(select(Role).where(
        Role.person_id == person.id, Role.park_id == park.id, col(Role.revoked_at).is_(None)).order_by(col(Role.id))))
    number = park_numbers.people(ctx.session, park.id)[person.id]
    labels = ", ".join(role_label(ctx.services.texts, ctx.language, role.role) for role in roles)
    ctx.reply(ctx.t("admin.manage_person", number=number, name=person.display_name, roles=labels),
              _entry_buttons(ctx, number, person, roles))


def _entry_buttons(ctx: Context, number: int, person: Person, roles: list[Role]) -> list[list[Button]]:
    rows = []
    for role in roles:
        who = f"{number}. {person.display_name}"
        if len(roles) > 1:
            who += f" ({role_label(ctx.services.texts, ctx.language, role.role)})"
        row = [Button(ctx.t("admin.button_revoke", who=who), data=RoleAction(role.id, "revoke"))]
        if role.role != ADMIN:
            action = "back" if role.away_since else "away"
            row.append(Button(ctx.t(f"admin.button_{action}", who=who), data=RoleAction(role.id, action)))
        rows.append(row)
    return rows


# ---- typed commands -------------------------------------------------------------------------------

def revoke(ctx: Context, args: str) -> None:
    """``/intrekken 3 [ROLE]``: the role ends; its open reports are re-routed and their lead released."""
    named = _named_person(ctx, "revoke", args)
    if named is None:
        return None
    park, person, roles, rest = named
    if rest:
        wanted = parse_role(ctx.services.texts, rest, tuple(role.role for role in roles))
        roles = [role for role in roles if role.role == wanted]
        if not roles:
            return ctx.reply(ctx.t("admin.unknown_role_of", name=person.display_name, value=rest))
    if len(roles) > 1:
        return ctx.reply(ctx.t("admin.which_role", name=person.display_name), [
            [Button(role_label(ctx.services.texts, ctx.language, role.role), data=RoleAction(role.id, "revoke_yes"))]
            for role in roles])
    return _revoke(ctx, roles[0], park, person)


def away(ctx: Context, args: str) -> None:
    """``/afwezig 3 5``: person 5 receives person 3's reports and reminders until ``/terug 3``."""
    parts = args.split()
    if len(parts) != 2:
        return ctx.reply(ctx.t("admin.away_usage"))
    named = _named_person(ctx, "away", args, arguments=2)
    if named is None:
        return None
    park, person, roles, rest = named
    backup_id = park_numbers.find(park_numbers.people(ctx.session, park.id), park_numbers.parse_number(rest))
    official_roles = [role for role in roles if role.role != ADMIN and role.away_since is None]
    backup = ctx.session.get(Person, backup_id) if backup_id else None
    if backup is None or not official_roles:
        return ctx.reply(ctx.t("admin.away_usage"))
    for role in official_roles:
        if not _set_away(ctx, role, park, person, backup, quiet=role is not official_roles[-1]):
            return None
    return None


def back(ctx: Context, args: str) -> None:
    """``/terug 3``: the official receives their own reports and reminders again."""
    named = _named_person(ctx, "back", args)
    if named is None:
        return None
    park, person, roles, _ = named
    away_roles = [role for role in roles if role.away_since is not None]
    if not away_roles:
        return ctx.reply(ctx.t("admin.not_away", name=person.display_name))
    for role in away_roles:
        _set_back(ctx, role, park, person)
    ctx.reply(ctx.t("admin.back_set", name=person.display_name))
    return None


def _named_person(ctx: Context, command: str, args: str, arguments: int = 1):
    """(park, person, active roles, the rest of the arguments) for ``NUMBER …``; or None after answering."""
    park = park_choice.choose(ctx, park_choice.admin_parks(ctx), command, args)
    if park is None:
        return None
    first, _, rest = args.strip().partition(" ")
    person_id = park_numbers.find(park_numbers.people(ctx.session, park.id), park_numbers.parse_number(first))
    roles = list(ctx.session.exec(select(Role).where(
        Role.person_id == person_id, Role.park_id == park.id, col(Role.revoked_at).is_(None)).order_by(col(Role.id))
    )) if person_id else []
    if not roles:
        ctx.reply(ctx.t("admin.unknown_person", value=first or "?"))
        return None
    return park, ctx.session.get(Person, person_id), roles, rest.strip()


# ---- buttons ------------------------------------------------------------------------------------------

def on_role_button(ctx: Context, role_id: int, action: str) -> None:
    found = _role_of_my_park(ctx, role_id)
    if found is None:
        return None
    role, park, person = found
    if action == "manage":
        return _person_menu(ctx, park, person)
    if action == "revoke":
        label = role_label(ctx.services.texts, ctx.language, role.role)
        return ctx.reply(ctx.t("admin.revoke_confirm", name=person.display_name, role=label, park=park.name),
                         [[Button(ctx.t("admin.revoke_yes"), data=RoleAction(role.id, "revoke_yes"))]])
    if action == "revoke_yes":
        return _revoke(ctx, role, park, person)
    if action == "back":
        if role.away_since is None:
            return ctx.reply(ctx.t("admin.not_away", name=person.display_name))
        _set_back(ctx, role, park, person)
        return ctx.reply(ctx.t("admin.back_set", name=person.display_name))
    if role.role == ADMIN or role.away_since is not None:
        ctx.toast = ctx.t("input.stale_button")
        return None
    candidates = _backup_candidates(ctx, role, park)
    if not candidates:
        return ctx.reply(ctx.t("admin.no_backup", name=person.display_name,
                               role=role_label(ctx.services.texts, ctx.language, role.role)))
    numbers = park_numbers.people(ctx.session, park.id)
    ctx.reply(ctx.t("admin.pick_backup", name=person.display_name),
              [[Button(f"{numbers[candidate.id]}. {candidate.display_name}", data=BackupChoice(role.id, candidate.id))]
               for candidate in candidates])
    return None


def on_backup_button(ctx: Context, role_id: int, backup_person_id: int) -> None:
    found = _role_of_my_park(ctx, role_id)
    if found is None:
        return None
    role, park, person = found
    backup = ctx.session.get(Person, backup_person_id)
    if backup is None or role.away_since is not None or backup not in _backup_candidates(ctx, role, park):
        ctx.toast = ctx.t("input.stale_button")
        return None
    _set_away(ctx, role, park, person, backup)
    return None


def _role_of_my_park(ctx: Context, role_id: int) -> tuple[Role, Park, Person] | None:
    role = ctx.session.get(Role, role_id)
    if role is None or role.revoked_at is not None or role.park_id not in {
            park.id for park in park_choice.admin_parks(ctx)}:
        ctx.toast = ctx.t("input.stale_button")
        return None
    return role, ctx.session.get(Park, role.park_id), ctx.session.get(Person, role.person_id)


def _backup_candidates(ctx: Context, role: Role, park: Park) -> list[Person]:
    """Present officials of the park holding the same role, other than the role's holder.

    Only the same role: a stand-in of another role would receive reports it cannot act on.
    """
    rows = ctx.session.exec(select(Role).where(
        Role.park_id == park.id, Role.role == role.role, col(Role.revoked_at).is_(None),
        col(Role.away_since).is_(None), Role.person_id != role.person_id).order_by(col(Role.id))).all()
    return list({row.person_id: ctx.session.get(Person, row.person_id) for row in rows}.values())


# ---- the changes -----------------------------------------------------------------------------------

def _revoke(ctx: Context, role: Role, park: Park, person: Person) -> None:
    if role.role == ADMIN and len(people_with_roles(ctx.session, park.id, [ADMIN])) <= 1:
        return ctx.reply(ctx.t("admin.last_admin", park=park.name))
    role.revoked_at = ctx.now
    ctx.session.add(role)
    ctx.session.flush()
    audit.record(ctx, park, "revoke", person.display_name, before={"role": role.role, "name": person.display_name})
    label = role_label(ctx.services.texts, ctx.services.texts.language_for(person.language), role.role)
    if role.role == ADMIN:
        ctx.send_to(person, ctx.t_for(person, "admin.revoked_you_admin", park=park.name))
        return ctx.reply(ctx.t("admin.revoked_admin", name=person.display_name, park=park.name))
    ctx.send_to(person, ctx.t_for(person, "admin.revoked_you", role=label, park=park.name))
    moved = _reroute_after_revoke(ctx, park, person)
    ctx.reply(ctx.tn("admin.revoked_official", moved, name=person.display_name, park=park.name))
    return None


def _reroute_after_revoke(ctx: Context, park: Park, person: Person) -> int:
    """Release their lead and give their open reports to the officials still routed; how many there were."""
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
    return len(reports)


def _set_away(ctx: Context, role: Role, park: Park, person: Person, backup: Person, quiet: bool = False) -> bool:
    backup_roles = ctx.session.exec(select(Role).where(
        Role.person_id == backup.id, Role.park_id == park.id, col(Role.revoked_at).is_(None))).all()
    if (role.role == ADMIN or backup.id == person.id or not any(r.role != ADMIN for r in backup_roles)
            or any(r.away_since is not None for r in backup_roles)):
        ctx.reply(ctx.t("admin.away_usage"))
        return False
    if not has_role(ctx.session, backup.id, park.id, [role.role]):
        # A stand-in acts on what it is sent, so it must hold the absent official's role here.
        ctx.reply(ctx.t("admin.away_backup_other_role", name=person.display_name, backup=backup.display_name,
                        role=role_label(ctx.services.texts, ctx.language, role.role)))
        return False
    role.away_since, role.backup_person_id = ctx.now, backup.id
    ctx.session.add(role)
    audit.record(ctx, park, "away", person.display_name,
                 after={"name": person.display_name, "role": role.role, "backup": backup.display_name})
    if not quiet:
        ctx.send_to(backup, ctx.t_for(backup, "admin.you_are_backup", name=person.display_name, park=park.name))
        ctx.reply(ctx.t("admin.away_set", name=person.display_name, backup=backup.display_name))
    return True


def _set_back(ctx: Context, role: Role, park: Park, person: Person) -> None:
    backup = ctx.session.get(Person, role.backup_person_id) if role.backup_person_id else None
    role.away_since, role.backup_person_id = None, None
    ctx.session.add(role)
    audit.record(ctx, park, "back", person.display_name,
                 before={"name": person.display_name, "role": role.role,
                         "backup": backup.display_name if backup else None})
