"""Admin buttons under ``/instanties``, ``/categorieen`` and ``/uitnodigingen``, routed to their handlers.

Every handler checks again, in the database, that the role, category or invite belongs to a
park this person administers: a button proves nothing.
"""

from handlers import admin_categories, admin_invites, admin_officials, commands
from handlers.buttons import BackupChoice, ButtonData, CategoryAction, CategoryRole, InviteCancel, RoleAction, Unknown
from handlers.context import Context

ADMIN_KINDS = (RoleAction, BackupChoice, CategoryAction, CategoryRole, InviteCancel)


def on_press(ctx: Context, pressed: ButtonData | Unknown) -> bool:
    """Handle an admin button; False when ``pressed`` is not one."""
    if not isinstance(pressed, ADMIN_KINDS):
        return False
    if not commands.holds(ctx, commands.ADMINS):
        ctx.toast = ctx.t("admin.not_admin")
        return True
    match pressed:
        case RoleAction(role_id, action):
            admin_officials.on_role_button(ctx, role_id, action)
        case BackupChoice(role_id, backup_person_id):
            admin_officials.on_backup_button(ctx, role_id, backup_person_id)
        case CategoryAction(category_id, action):
            admin_categories.on_category_button(ctx, category_id, action)
        case CategoryRole(category_id, role):
            admin_categories.on_role_toggle(ctx, category_id, role)
        case InviteCancel(invite_id):
            admin_invites.cancel(ctx, invite_id)
    return True
