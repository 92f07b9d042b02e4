"""Queries of staff and volunteer roles: who may use staff commands."""

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
