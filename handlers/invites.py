"""Single-use, expiring invite codes that verify an account for a park and role."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from handlers import rate_limits
from handlers.context import Context
from handlers.park_language import adopt_park_language
from handlers.rendering import role_label
from storage.models import Invite, Park, Person, Role
from storage.queries import ADMIN

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
CODE_LENGTH = 20


class InviteError(ValueError):
    """A request for an invite that cannot be made (unknown park or role)."""


@dataclass(frozen=True)
class IssuedInvite:
    code: str
    park: Park
    role: str
    expires_at: datetime
    invite_id: int


def hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def looks_like_code(text: str) -> bool:
    text = text.strip()
    return len(text) == CODE_LENGTH and all(char in CODE_ALPHABET for char in text)


def create_invite(session: Session, *, park_slug: str, role: str, allowed_roles: tuple[str, ...],
                  now: datetime, valid_for: timedelta, created_by: Person | None = None) -> IssuedInvite:
    """Store a new invite (hashed) and return the only copy of its code."""
    park = session.exec(select(Park).where(Park.slug == park_slug)).first()
    if park is None:
        raise InviteError(f"unknown park '{park_slug}'")
    if role != ADMIN and role not in allowed_roles:
        raise InviteError(f"unknown role '{role}'; choose one of: {', '.join((ADMIN, *allowed_roles))}")
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    invite = Invite(park_id=park.id, role=role, code_hash=hash_code(code), created_at=now, expires_at=now + valid_for,
                    created_by_person_id=created_by.id if created_by else None)
    session.add(invite)
    session.flush()
    return IssuedInvite(code=code, park=park, role=role, expires_at=invite.expires_at, invite_id=invite.id)


def redeem(ctx: Context, code: str) -> None:
    """``/start CODE`` in a private chat; the invite keeps who redeemed it (the audit log shows it)."""
    if not rate_limits.may_redeem(ctx):
        return None
    invite = ctx.session.exec(select(Invite).where(Invite.code_hash == hash_code(code))).first()
    if invite is None:
        rate_limits.redeem_failed(ctx)
        return ctx.reply(ctx.t("invite.unknown"))
    if invite.used_at is not None:
        return ctx.reply(ctx.t("invite.used"))
    if invite.cancelled_at is not None:
        return ctx.reply(ctx.t("invite.cancelled"))
    if invite.expires_at <= ctx.now:
        return ctx.reply(ctx.t("invite.expired"))
    park = ctx.session.get(Park, invite.park_id)
    invite.used_at = ctx.now
    invite.used_by_person_id = ctx.person.id
    ctx.session.add(invite)
    existing = ctx.session.exec(select(Role).where(
        Role.person_id == ctx.person.id, Role.park_id == park.id, Role.role == invite.role,
        col(Role.revoked_at).is_(None))).first()
    if existing is None:
        ctx.session.add(Role(person_id=ctx.person.id, park_id=park.id, role=invite.role, verified_at=ctx.now))
    adopt_park_language(ctx.session, ctx.person, {park.id})
    label = role_label(ctx.services.texts, ctx.language, invite.role)
    key = "invite.verified_admin" if invite.role == ADMIN else "invite.verified_official"
    ctx.reply(ctx.t(key, role=label, park=park.name))
    return None
