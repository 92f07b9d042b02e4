"""Queries of staff and volunteer roles: who may use staff commands."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from storage.models import StaffMember

STAFF = "staff"
VOLUNTEER = "volunteer"


async def role_of(session: AsyncSession, channel: str, chat_id: str | None) -> str | None:
    """'staff', 'volunteer' or None for everybody else (and for anybody deactivated)."""
    if not chat_id:
        return None
    result = await session.execute(
        select(StaffMember.role).where(
            StaffMember.channel == channel,
            StaffMember.chat_id == chat_id,
            StaffMember.active.is_(True),
        )
    )
    return result.scalar_one_or_none()


async def is_staff(session: AsyncSession, channel: str, chat_id: str | None) -> bool:
    return await role_of(session, channel, chat_id) == STAFF


async def add_member(
    session: AsyncSession,
    *,
    name: str,
    role: str,
    now: datetime,
    channel: str | None = None,
    chat_id: str | None = None,
    code: str | None = None,
) -> StaffMember:
    """Register (or re-activate and update) a staff member or volunteer."""
    if role not in (STAFF, VOLUNTEER):
        raise ValueError(f"role must be {STAFF!r} or {VOLUNTEER!r}")
    code = code.upper() if code else None
    existing = None
    if channel and chat_id:
        existing = await member_by_chat(session, channel, chat_id)
    if existing is None and code:
        existing = await member_by_code(session, code)
    member = existing or StaffMember(name=name, role=role, created_at=now)
    member.name, member.role, member.active = name, role, True
    member.channel, member.chat_id = channel or member.channel, chat_id or member.chat_id
    member.code = code or member.code
    session.add(member)
    await session.flush()
    return member


async def member_by_chat(
    session: AsyncSession, channel: str, chat_id: str | None
) -> StaffMember | None:
    """The active member behind a chat account, or None."""
    if not chat_id:
        return None
    result = await session.execute(
        select(StaffMember).where(
            StaffMember.channel == channel,
            StaffMember.chat_id == chat_id,
            StaffMember.active.is_(True),
        )
    )
    return result.scalar_one_or_none()


async def member_by_code(session: AsyncSession, code: str) -> StaffMember | None:
    result = await session.execute(select(StaffMember).where(StaffMember.code == code.upper()))
    return result.scalar_one_or_none()


async def list_members(session: AsyncSession, role: str | None = None) -> list[StaffMember]:
    query = select(StaffMember).order_by(StaffMember.role, StaffMember.name)
    if role:
        query = query.where(StaffMember.role == role)
    return list((await session.execute(query)).scalars())


async def deactivate(session: AsyncSession, member_id: int) -> bool:
    member = await session.get(StaffMember, member_id)
    if member is None:
        return False
    member.active = False
    return True
